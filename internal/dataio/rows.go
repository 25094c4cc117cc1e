package dataio

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
	"golang.org/x/text/unicode/norm"
)

// rowError is why one row was not imported.
type rowError struct {
	Field  string
	Reason string
}

func (e *rowError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

func rowErr(field, format string, args ...any) *rowError {
	return &rowError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// companyRef is how a contact row names its company.
type companyRef struct {
	Name, Norm, Domain, Corp string
}

func (c companyRef) empty() bool { return c.Name == "" && c.Domain == "" && c.Corp == "" }

// record is one parsed row: the columns it sets on the record, and for a
// contact the company it belongs to.
type record struct {
	Num     int64
	Line    int
	Cols    map[string]any // database column → value, only what the row sets
	Company companyRef
	Key     string         // contacts: the email; companies: unused
	Raw     []string       // the row as read, for the error report
	Props   map[string]any // custom property values the row sets
	// deals: the external id (dedupe key) and the contacts' emails
	ExtID  string
	Emails []string
}

// rowContext is what turning rows into records needs besides the mapping.
type rowContext struct {
	Object  string
	Mapping []string
	Fields  map[string]Field // by key: built-in fields and custom properties
	Loc     *time.Location
	Owners  map[string]int64 // folded email or name → user id
	// deals: the workspace's pipelines and its base currency
	Pipelines *pipelineIndex
	Currency  string
}

func fieldMap(fields []Field) map[string]Field {
	m := make(map[string]Field, len(fields))
	for _, f := range fields {
		m[f.Key] = f
	}
	return m
}

var stageNames = map[string]platform.Stage{
	"subscriber": platform.StageSubscriber, "lead": platform.StageLead, "mql": platform.StageMQL,
	"marketingqualifiedlead": platform.StageMQL, "sql": platform.StageSQL, "salesqualifiedlead": platform.StageSQL,
	"opportunity": platform.StageOpportunity, "customer": platform.StageCustomer, "disqualified": platform.StageDisqualified,
	"recycled": platform.StageRecycled, "other": platform.StageLead, "evangelist": platform.StageCustomer,
	"購読者": platform.StageSubscriber, "リード": platform.StageLead, "見込み客": platform.StageLead, "商談": platform.StageOpportunity,
	"商談化": platform.StageOpportunity, "顧客": platform.StageCustomer, "失注": platform.StageDisqualified, "対象外": platform.StageDisqualified,
	"再育成": platform.StageRecycled,
}

func parseStage(s string) (platform.Stage, bool) {
	k := strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(norm.NFKC.String(s)))
	if st, ok := stageNames[k]; ok {
		return st, true
	}
	st := platform.Stage(k)
	return st, st.Valid()
}

// toRecord turns a CSV row into a record, or says why it cannot be imported.
func (rc *rowContext) toRecord(row Row) (record, *rowError) {
	rec := record{Num: row.Num, Line: row.Line, Cols: map[string]any{}, Raw: append([]string(nil), row.Fields...)}
	if row.Err != nil {
		return rec, rowErr("", "the line is not valid CSV: %v", row.Err)
	}
	var fullName, fullKana, pipeline, stage string
	for i, key := range rc.Mapping {
		if key == "" || i >= len(row.Fields) {
			continue
		}
		v := strings.TrimSpace(row.Fields[i])
		if v == "" {
			continue
		}
		f, ok := rc.Fields[key]
		if !ok {
			continue
		}
		if len(v) > 500 && key != "body" {
			return rec, rowErr(key, "is longer than 500 bytes")
		}
		if len(v) > 100_000 {
			return rec, rowErr(key, "is longer than 100,000 bytes")
		}
		switch f.Kind {
		case "email":
			e, ok := platform.NormalizeEmail(v)
			if !ok {
				return rec, rowErr(key, "%q is not a valid email address", v)
			}
			rec.Cols["email"], rec.Key = e, e
		case "prop":
			pv, err := propValue(f.prop, v, rc.Loc)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			if rec.Props == nil {
				rec.Props = map[string]any{}
			}
			rec.Props[f.prop.Key] = pv
		case "name":
			if key == "full_name" {
				fullName = v
			} else {
				fullKana = v
			}
		case "phone":
			p, err := CleanPhone(v)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			rec.Cols[key] = p
			if key == "phone" && rc.Object == Contacts {
				rec.Cols["phone_norm"] = crm.NormalizePhone(p)
			}
		case "stage":
			st, ok := parseStage(v)
			if !ok {
				return rec, rowErr(key, "%q is not a lifecycle stage", v)
			}
			rec.Cols[key] = string(st)
		case "date":
			t, err := ParseDate(v, rc.Loc)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			if key == "close_date" {
				rec.Cols[key] = t.Format(time.DateOnly)
				rec.Cols["closed_at"] = t.UnixMilli()
			} else {
				rec.Cols[key] = t.UnixMilli()
			}
		case "datetime":
			t, err := ParseDate(v, rc.Loc)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			rec.Cols[key] = t.UnixMilli()
		case "activity_kind":
			k, ok := parseActivityKind(v)
			if !ok {
				return rec, rowErr(key, "%q is not an activity kind (call, email, meeting, demo, note, task)", v)
			}
			rec.Cols[key] = k
		case "call_outcome":
			o, ok := parseCallOutcome(v)
			if !ok {
				return rec, rowErr(key, "%q is not a call outcome (不在, 受付止まり, 担当者接続, アポ獲得, 留守電, 番号違い)", v)
			}
			rec.Cols[key] = o
		case "done":
			b, ok := parseDone(v)
			if !ok {
				return rec, rowErr(key, "%q is not yes or no", v)
			}
			rec.Cols[key] = b
		case "external_id":
			rec.ExtID = norm.NFKC.String(v)
		case "amount":
			a, err := ParseAmount(v)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			rec.Cols[key] = a
		case "currency":
			c := strings.ToUpper(norm.NFKC.String(v))
			if c == "円" || c == "¥" {
				c = "JPY"
			}
			if !platform.ValidCurrency(c) {
				return rec, rowErr(key, "%q is not a currency code", v)
			}
			rec.Cols[key] = c
		case "pipeline":
			pipeline = v
		case "deal_stage":
			stage = v
		case "deal_type":
			t, ok := parseDealType(v)
			if !ok {
				return rec, rowErr(key, "%q is not a deal type (new, upsell or renewal)", v)
			}
			rec.Cols["deal_type"] = t
		case "interval":
			t, ok := parseInterval(v)
			if !ok {
				return rec, rowErr(key, "%q is not month or year", v)
			}
			rec.Cols[key] = t
		case "emails":
			es, err := parseEmails(v)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			rec.Emails = es
		case "int":
			n, err := ParseInt(v)
			if err != nil {
				return rec, rowErr(key, "%v", err)
			}
			if n < 0 {
				return rec, rowErr(key, "must not be negative")
			}
			rec.Cols[key] = n
		case "domain":
			d := crm.NormalizeDomain(v)
			if !strings.Contains(d, ".") || strings.ContainsAny(d, " \t") {
				return rec, rowErr(key, "%q is not a domain name", v)
			}
			if key == "company_domain" {
				rec.Company.Domain = d
			} else {
				rec.Cols[key] = d
			}
		case "corporate_number":
			n := crm.NormalizePhone(v)
			if !crm.ValidCorporateNumber(n) {
				return rec, rowErr(key, "%q is not a valid 13-digit corporate number (法人番号)", v)
			}
			if key == "company_corporate_number" {
				rec.Company.Corp = n
			} else {
				rec.Cols[key] = n
			}
		default: // text
			switch key {
			case "owner":
				if id, ok := rc.Owners[strings.ToLower(norm.NFKC.String(v))]; ok {
					rec.Cols["owner_id"] = id
				}
			case "company_name":
				rec.Company.Name = v
			default:
				rec.Cols[key] = v
			}
		}
	}
	if fullName != "" && rec.Cols["family_name"] == nil && rec.Cols["given_name"] == nil {
		f, g := SplitName(fullName)
		setText(rec.Cols, "family_name", f)
		setText(rec.Cols, "given_name", g)
	}
	if fullKana != "" && rec.Cols["family_name_kana"] == nil && rec.Cols["given_name_kana"] == nil {
		f, g := SplitName(fullKana)
		setText(rec.Cols, "family_name_kana", f)
		setText(rec.Cols, "given_name_kana", g)
	}
	if rc.Object == Companies {
		return rec, companyRecord(&rec)
	}
	if rc.Object == Deals {
		return rec, rc.dealRecord(&rec, pipeline, stage)
	}
	if rc.Object == Activities {
		return rec, activityRecord(&rec)
	}
	if rec.Company.Name != "" || rec.Company.Domain != "" {
		name := rec.Company.Name
		if name == "" {
			name = rec.Company.Domain
		}
		rec.Company.Name, rec.Company.Norm = name, crm.NormalizeCompanyName(name)
	}
	if rec.Cols["email"] == nil && rec.Cols["family_name"] == nil && rec.Cols["given_name"] == nil {
		return rec, rowErr("email", "a contact needs an email address or a name")
	}
	return rec, nil
}

// dealRecord finds a deal row's pipeline and stage by name and checks what
// crm checks of a new deal: a name, a reason for a lost deal, an interval
// for a recurring amount.
func (rc *rowContext) dealRecord(rec *record, pipeline, stage string) *rowError {
	if str(rec.Cols, "name") == "" {
		return rowErr("name", "a deal needs a name")
	}
	if rc.Pipelines == nil {
		return rowErr("pipeline", "the workspace has no pipeline")
	}
	p, ok := rc.Pipelines.pipeline(pipeline)
	if !ok {
		return rowErr("pipeline", "there is no pipeline named %q", pipeline)
	}
	st, ok := stageOf(p, stage)
	if !ok {
		return rowErr("stage", "%q is not a stage of pipeline %q", stage, p.Name)
	}
	rec.Cols["pipeline_id"], rec.Cols["stage_id"], rec.Cols["status"] = p.ID, st.ID, st.Kind
	if st.Kind == "lost" && str(rec.Cols, "lost_reason") == "" {
		return rowErr("lost_reason", "a lost deal needs a lost reason")
	}
	if st.Kind == "open" {
		delete(rec.Cols, "closed_at")
		delete(rec.Cols, "lost_reason")
	}
	if ra, _ := rec.Cols["recurring_amount"].(float64); ra > 0 && str(rec.Cols, "recurring_interval") == "" {
		return rowErr("recurring_interval", "is required with a recurring amount")
	}
	if rec.Company.Name != "" {
		rec.Company.Norm = crm.NormalizeCompanyName(rec.Company.Name)
	}
	return nil
}

// activityRecord checks what crm checks of a new activity: a kind, an
// outcome for calls only, something it concerns.
func activityRecord(rec *record) *rowError {
	kind := str(rec.Cols, "kind")
	if kind == "" {
		return rowErr("kind", "an activity needs a kind")
	}
	if str(rec.Cols, "call_outcome") != "" && kind != "call" {
		return rowErr("call_outcome", "is for calls only")
	}
	if kind != "task" {
		delete(rec.Cols, "done")
		delete(rec.Cols, "due_date")
	}
	if rec.Company.Name != "" {
		rec.Company.Norm = crm.NormalizeCompanyName(rec.Company.Name)
	}
	if rec.Key == "" && rec.Company.empty() && rec.ExtID == "" && str(rec.Cols, "deal_name") == "" {
		return rowErr("contact_email", "an activity concerns a contact, a company or a deal")
	}
	return nil
}

func companyRecord(rec *record) *rowError {
	name, _ := rec.Cols["name"].(string)
	if name == "" {
		d, _ := rec.Cols["domain"].(string)
		if d == "" {
			return rowErr("name", "a company needs a name or a domain")
		}
		name = d
		rec.Cols["name"] = name
	}
	rec.Cols["name_norm"] = crm.NormalizeCompanyName(name)
	return nil
}

func setText(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// contactSearchText is the folded name-search text of a contact's columns.
func contactSearchText(cols map[string]any) string {
	s := func(k string) string { v, _ := cols[k].(string); return v }
	return crm.ContactSearchText(crm.Contact{FamilyName: s("family_name"), GivenName: s("given_name"),
		FamilyNameKana: s("family_name_kana"), GivenNameKana: s("given_name_kana"), Email: s("email"), Phone: s("phone"), Mobile: s("mobile")})
}

// companySearchText is the folded name-search text of a company's columns.
func companySearchText(cols map[string]any) string {
	s := func(k string) string { v, _ := cols[k].(string); return v }
	return crm.CompanySearchText(crm.Company{Name: s("name"), NameNormalized: s("name_norm"), NameKana: s("name_kana"),
		Domain: s("domain"), CorporateNumber: s("corporate_number")})
}

var (
	truths = map[string]bool{"true": true, "yes": true, "y": true, "1": true, "はい": true, "○": true, "有": true, "あり": true,
		"false": false, "no": false, "n": false, "0": false, "いいえ": false, "×": false, "無": false, "なし": false}
	listSep = strings.NewReplacer("、", ";", ",", ";", "\n", ";")
)

// propValue reads a custom property's value from a cell, by the property's
// type: numbers with separators, dates in any format ParseDate reads, yes/no
// in Japanese or English, choices by value or label.
func propValue(d *crm.PropertyDefinition, v string, loc *time.Location) (any, error) {
	choice := func(s string) (string, bool) {
		fs := strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
		for _, o := range d.Options {
			for _, c := range []string{o.Value, o.LabelEN, o.LabelJA} {
				if c != "" && strings.ToLower(norm.NFKC.String(c)) == fs {
					return o.Value, true
				}
			}
		}
		return "", false
	}
	switch d.Type {
	case crm.PropNumber:
		f := strings.NewReplacer(",", "", " ", "").Replace(strings.TrimSpace(norm.NFKC.String(v)))
		n, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return n, nil
	case crm.PropDate:
		t, err := ParseDate(v, loc)
		if err != nil {
			return nil, err
		}
		return t.Format(time.DateOnly), nil
	case crm.PropBool:
		b, ok := truths[strings.ToLower(strings.TrimSpace(norm.NFKC.String(v)))]
		if !ok {
			return nil, fmt.Errorf("%q is not yes or no", v)
		}
		return b, nil
	case crm.PropSingleChoice:
		c, ok := choice(v)
		if !ok {
			return nil, fmt.Errorf("%q is not one of the property's options", v)
		}
		return c, nil
	case crm.PropMultiChoice:
		out := []any{}
		for _, part := range strings.Split(listSep.Replace(v), ";") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			c, ok := choice(part)
			if !ok {
				return nil, fmt.Errorf("%q is not one of the property's options", part)
			}
			out = append(out, c)
		}
		return out, nil
	}
	return v, nil
}

// missingRequired names a required custom property a new record lacks.
func missingRequired(fields map[string]Field, props map[string]any) string {
	for _, f := range fields {
		if f.prop != nil && f.prop.Required {
			if _, ok := props[f.prop.Key]; !ok {
				return f.Key
			}
		}
	}
	return ""
}
