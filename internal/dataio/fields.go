package dataio

import (
	"context"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/ryorin/ryorin/internal/crm"
)

// Object types that can be imported.
const (
	Contacts   = "contact"
	Companies  = "company"
	Deals      = "deal"
	Activities = "activity"
)

// Objects lists the object types that can be imported, in menu order.
var Objects = []string{Contacts, Companies, Deals, Activities}

// ValidObject says whether object can be imported.
func ValidObject(object string) bool {
	for _, o := range Objects {
		if o == object {
			return true
		}
	}
	return false
}

// Field is one thing a CSV column can be imported as.
type Field struct {
	Key string `json:"key"`
	// Kind says how a value is read: text, email, phone, date, int, stage,
	// name (a full name split in two), corporate_number, domain.
	Kind string `json:"kind"`
	EN   string `json:"en"` // column heading in English (exports use it)
	JA   string `json:"ja"` // column heading in Japanese
	// aliases are further headings recognised, folded (see foldHeader).
	aliases []string
	// prop is the definition of a custom property field (Key "prop.<key>").
	prop *crm.PropertyDefinition
}

// Label is the field's heading in a language ("ja" or "en").
func (f Field) Label(lang string) string {
	if lang == "ja" {
		return f.JA
	}
	return f.EN
}

func fld(key, kind, en, ja string, aliases ...string) Field {
	return Field{Key: key, Kind: kind, EN: en, JA: ja, aliases: aliases}
}

var contactFields = []Field{
	fld("email", "email", "Email", "メールアドレス", "e-mail", "mail", "メール", "eメール", "eメールアドレス", "email address", "e-mail address", "電子メール"),
	fld("family_name", "text", "Last name", "姓", "lastname", "last name", "family name", "surname", "名字", "苗字", "氏"),
	fld("given_name", "text", "First name", "名", "firstname", "first name", "given name", "下の名前"),
	fld("full_name", "name", "Name", "氏名", "full name", "name", "名前", "お名前", "氏名(漢字)", "contact name"),
	fld("family_name_kana", "text", "Last name (kana)", "姓(カナ)", "姓カナ", "姓(フリガナ)", "セイ", "姓(ふりがな)", "last name kana"),
	fld("given_name_kana", "text", "First name (kana)", "名(カナ)", "名カナ", "名(フリガナ)", "メイ", "名(ふりがな)", "first name kana"),
	fld("full_name_kana", "name", "Name (kana)", "氏名(カナ)", "フリガナ", "ふりがな", "氏名カナ", "氏名(フリガナ)", "よみ", "name kana"),
	fld("phone", "phone", "Phone", "電話番号", "phone number", "tel", "電話", "tel直通", "直通電話", "business phone", "会社電話番号"),
	fld("mobile", "phone", "Mobile", "携帯電話", "mobile phone", "mobilephone", "mobile phone number", "携帯", "携帯電話番号", "cell"),
	fld("title", "text", "Job title", "役職", "title", "job title", "position", "役職名", "肩書"),
	fld("department", "text", "Department", "部署", "部署名", "所属", "部門", "division"),
	fld("lifecycle_stage", "stage", "Lifecycle stage", "ライフサイクルステージ", "stage", "lifecycle stage", "ステージ"),
	fld("original_source", "text", "Source", "流入元", "lead source", "leadsource", "original source", "source", "リードソース", "獲得元"),
	fld("owner", "text", "Owner", "担当者", "contact owner", "owner", "owner email", "担当", "営業担当", "所有者"),
	fld("created_at", "date", "Created", "作成日", "create date", "created date", "createddate", "created at", "名刺交換日", "登録日", "作成日時"),
	fld("company_name", "text", "Company", "会社名", "company", "company name", "account name", "account.name", "associated company", "企業名", "社名", "組織名"),
	fld("company_domain", "domain", "Company domain", "会社ドメイン", "company domain name", "website url", "website", "url", "ウェブサイト", "ホームページ"),
	fld("company_corporate_number", "corporate_number", "Corporate number", "法人番号", "corporate number"),
}

var companyFields = []Field{
	fld("name", "text", "Company name", "会社名", "company", "company name", "account name", "name", "企業名", "社名", "組織名"),
	fld("name_kana", "text", "Company name (kana)", "会社名(カナ)", "会社名カナ", "会社名(フリガナ)", "企業名カナ"),
	fld("domain", "domain", "Domain", "ドメイン", "company domain name", "website url", "website", "url", "ウェブサイト", "ホームページ"),
	fld("corporate_number", "corporate_number", "Corporate number", "法人番号", "corporate number"),
	fld("industry", "text", "Industry", "業種", "業界"),
	fld("employees", "int", "Employees", "従業員数", "number of employees", "numberofemployees", "社員数"),
	fld("annual_revenue", "int", "Annual revenue", "売上高", "annualrevenue", "年商", "年間売上"),
	fld("phone", "phone", "Phone", "電話番号", "phone number", "tel", "電話", "代表電話", "tel会社"),
	fld("postal_code", "text", "Postal code", "郵便番号", "zip", "postal code", "billingpostalcode", "〒"),
	fld("prefecture", "text", "Prefecture", "都道府県", "state", "state/region", "billingstate"),
	fld("city", "text", "City", "市区町村", "billingcity"),
	fld("address_line1", "text", "Address", "住所", "street address", "billingstreet", "番地", "address"),
	fld("address_line2", "text", "Building", "建物名", "address 2", "street address 2", "ビル名"),
	fld("created_at", "date", "Created", "作成日", "create date", "created date", "createddate", "登録日"),
}

// dealFields: a deal's company is found like a company import's
// (corporate number, domain, normalised name) and created only when the row
// names it; contacts are linked by email when they exist.
var dealFields = []Field{
	fld("external_id", "external_id", "External ID", "外部ID", "record id", "deal id", "opportunity id", "id", "案件id", "商談id"),
	fld("name", "text", "Deal name", "案件名", "deal name", "opportunity name", "name", "deal", "商談名", "案件"),
	fld("amount", "amount", "Amount", "金額", "amount", "deal amount", "受注金額", "見込金額", "売上金額"),
	fld("currency", "currency", "Currency", "通貨", "currency", "deal currency code", "opportunity currency", "currencyisocode", "通貨コード"),
	fld("pipeline", "pipeline", "Pipeline", "パイプライン", "pipeline", "sales pipeline"),
	fld("stage", "deal_stage", "Stage", "ステージ", "deal stage", "stage", "stagename", "フェーズ", "商談フェーズ", "進捗"),
	fld("owner", "text", "Owner", "担当者", "deal owner", "opportunity owner", "owner", "owner email", "担当", "営業担当", "所有者"),
	fld("company_name", "text", "Company", "会社名", "company", "company name", "account name", "account.name", "associated company", "取引先", "取引先名", "企業名", "社名"),
	fld("company_domain", "domain", "Company domain", "会社ドメイン", "company domain name", "website", "url", "ウェブサイト"),
	fld("company_corporate_number", "corporate_number", "Corporate number", "法人番号", "corporate number"),
	fld("contact_emails", "emails", "Contact emails", "担当者メールアドレス", "contact email", "contact emails", "associated contact", "email", "メールアドレス", "メール"),
	fld("close_date", "date", "Close date", "完了予定日", "close date", "closedate", "expected close date", "受注日", "受注予定日", "クローズ日"),
	fld("type", "deal_type", "Type", "種別", "deal type", "type", "案件種別", "商談種別"),
	fld("lost_reason", "text", "Lost reason", "失注理由", "closed lost reason", "lost reason", "loss reason"),
	fld("recurring_amount", "amount", "Recurring amount", "継続金額", "recurring amount", "recurring revenue amount", "月額", "継続課金額"),
	fld("recurring_interval", "interval", "Recurring interval", "継続間隔", "recurring interval", "billing frequency", "請求間隔", "課金周期"),
	fld("created_at", "date", "Created", "作成日", "create date", "created date", "createddate", "登録日", "作成日時"),
}

// activityFields: an activity links to records that exist (a contact by
// email, a company like the company dedupe, a deal by external id or by
// name and company); it never creates them.
var activityFields = []Field{
	fld("kind", "activity_kind", "Kind", "種別", "type", "activity type", "kind", "種類", "活動種別", "活動の種類", "tasksubtype", "task subtype"),
	fld("subject", "text", "Subject", "件名", "subject", "title", "タイトル", "activity subject"),
	fld("body", "text", "Body", "内容", "body", "notes", "description", "comments", "本文", "詳細", "note body", "call notes"),
	fld("occurred_at", "datetime", "Date", "日時", "occurred at", "date", "activity date", "timestamp", "日付", "実施日", "活動日", "activitydate", "create date", "created date"),
	fld("call_outcome", "call_outcome", "Call outcome", "通話結果", "call outcome", "outcome", "call result", "結果", "架電結果"),
	fld("owner", "text", "Owner", "担当者", "owner", "activity owner", "assigned to", "担当", "営業担当", "所有者", "owner.email"),
	fld("contact_email", "email", "Contact email", "メールアドレス", "contact email", "email", "e-mail", "メール", "associated contact"),
	fld("company_name", "text", "Company", "会社名", "company", "company name", "account name", "account.name", "associated company", "取引先名", "企業名", "社名"),
	fld("company_domain", "domain", "Company domain", "会社ドメイン", "company domain name", "website", "url", "ウェブサイト"),
	fld("company_corporate_number", "corporate_number", "Corporate number", "法人番号", "corporate number"),
	fld("deal_external_id", "external_id", "Deal external ID", "案件の外部ID", "deal id", "deal external id", "opportunity id", "whatid", "案件id", "商談id"),
	fld("deal_name", "text", "Deal name", "案件名", "deal name", "deal", "opportunity name", "opportunity", "associated deal", "商談名"),
	fld("due_date", "date", "Due date", "期限", "due date", "due", "activity due date", "期日", "締切"),
	fld("done", "done", "Done", "完了", "done", "completed", "status", "is closed", "ステータス", "状況"),
}

// FieldsFor lists the fields an object type can import, in display order.
func FieldsFor(object string) []Field {
	switch object {
	case Companies:
		return companyFields
	case Deals:
		return dealFields
	case Activities:
		return activityFields
	}
	return contactFields
}

// PropPrefix starts the key of a field that is a custom property.
const PropPrefix = "prop."

// Fields lists what an object's columns can be imported as in a workspace:
// the built-in fields, then the workspace's custom properties.
func (s *Service) Fields(ctx context.Context, ws int64, object string) ([]Field, error) {
	defs, err := s.CRM.Properties(ctx, s.DB.Reader(), ws, object)
	if err != nil {
		return nil, err
	}
	out := append([]Field(nil), FieldsFor(object)...)
	for i := range defs {
		d := defs[i]
		out = append(out, Field{Key: PropPrefix + d.Key, Kind: "prop", EN: d.LabelEN, JA: d.LabelJA, aliases: []string{d.Key}, prop: &d})
	}
	return out, nil
}

func lookup(fields []Field, key string) (Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// foldHeader makes headings comparable: width and case folded, spaces,
// underscores and full-width brackets normalised.
func foldHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))
	s = strings.NewReplacer("_", " ", "\u3000", " ", "（", "(", "）", ")").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// Preset is a known export format: the column headings another product writes.
type Preset struct {
	Name string
	// Object is the object type the format exports: "" for contacts and
	// companies (one export often holds both), Deals for deals.
	Object string
	// Columns maps a folded heading to a field key. Headings not listed are
	// guessed as usual.
	Columns map[string]string
	// signature lists folded headings that, all present, identify the format.
	signature []string
}

// Presets are the export formats recognised: HubSpot's and Salesforce's
// contact and company exports, and the business-card services Sansan and Eight.
var Presets = []Preset{
	{Name: "hubspot", signature: []string{"record id", "first name", "last name"}, Columns: map[string]string{
		"record id": "", "first name": "given_name", "last name": "family_name", "email": "email", "phone number": "phone",
		"mobile phone number": "mobile", "job title": "title", "company name": "company_name", "lifecycle stage": "lifecycle_stage",
		"create date": "created_at", "contact owner": "owner", "original source": "original_source", "website url": "company_domain",
		"company domain name": "company_domain", "associated company": "company_name", "name": "name", "industry": "industry",
		"number of employees": "employees", "annual revenue": "annual_revenue", "city": "city", "state/region": "prefecture",
		"postal code": "postal_code", "street address": "address_line1", "company owner": ""}},
	{Name: "salesforce", signature: []string{"firstname", "lastname"}, Columns: map[string]string{
		"id": "", "firstname": "given_name", "lastname": "family_name", "email": "email", "phone": "phone", "mobilephone": "mobile",
		"title": "title", "department": "department", "account.name": "company_name", "accountname": "company_name",
		"leadsource": "original_source", "createddate": "created_at", "ownerid": "", "owner.email": "owner"}},
	{Name: "salesforce", signature: []string{"first name", "last name", "account name"}, Columns: map[string]string{
		"first name": "given_name", "last name": "family_name", "account name": "company_name", "lead source": "original_source",
		"created date": "created_at", "contact owner": "owner", "mobile": "mobile", "mailing zip/postal code": ""}},
	{Name: "eight", signature: []string{"tel会社", "名刺交換日"}, Columns: map[string]string{
		"会社名": "company_name", "部署名": "department", "役職": "title", "姓": "family_name", "名": "given_name",
		"e-mail": "email", "tel直通": "phone", "tel会社": "", "tel部門": "", "携帯電話": "mobile", "url": "company_domain",
		"名刺交換日": "created_at", "fax": "", "郵便番号": "", "住所": ""}},
	{Name: "sansan", signature: []string{"名刺交換日", "会社名", "氏名"}, Columns: map[string]string{
		"会社名": "company_name", "部署名": "department", "役職": "title", "氏名": "full_name", "氏名(カナ)": "full_name_kana",
		"姓": "family_name", "名": "given_name", "メールアドレス": "email", "e-mail": "email", "電話番号": "phone", "携帯電話": "mobile",
		"url": "company_domain", "名刺交換日": "created_at", "fax": "", "郵便番号": "", "住所": "", "所有者": "owner"}},
	{Name: "hubspot", Object: Deals, signature: []string{"record id", "deal name"}, Columns: map[string]string{
		"record id": "external_id", "deal name": "name", "amount": "amount", "deal stage": "stage", "close date": "close_date",
		"pipeline": "pipeline", "deal owner": "owner", "deal type": "type", "closed lost reason": "lost_reason",
		"create date": "created_at", "associated company": "company_name", "associated contact": "contact_emails",
		"currency": "currency", "deal currency code": "currency", "associated company ids": "", "associated contact ids": "",
		"annual recurring revenue": "", "monthly recurring revenue": "", "last modified date": "", "deal probability": ""}},
	{Name: "salesforce", Object: Deals, signature: []string{"opportunity name"}, Columns: map[string]string{
		"opportunity id": "external_id", "opportunity name": "name", "amount": "amount", "stage": "stage", "close date": "close_date",
		"account name": "company_name", "opportunity owner": "owner", "type": "type", "created date": "created_at",
		"opportunity currency": "currency", "loss reason": "lost_reason", "probability (%)": "", "fiscal period": "", "lead source": ""}},
	{Name: "salesforce", Object: Deals, signature: []string{"stagename", "closedate"}, Columns: map[string]string{
		"id": "external_id", "name": "name", "amount": "amount", "stagename": "stage", "closedate": "close_date", "accountid": "",
		"account.name": "company_name", "ownerid": "", "owner.email": "owner", "type": "type", "createddate": "created_at",
		"currencyisocode": "currency", "probability": ""}},
}

// presetObject is the Preset.Object of an import's object type.
func presetObject(object string) string {
	if object == Deals || object == Activities {
		return object
	}
	return ""
}

// DetectPreset names the contact or company export format the headings
// come from, or "".
func DetectPreset(header []string) string { return DetectPresetFor(Contacts, header) }

// DetectPresetFor names the export format of an object type the headings
// come from, or "".
func DetectPresetFor(object string, header []string) string {
	have := map[string]bool{}
	for _, h := range header {
		have[foldHeader(h)] = true
	}
	for _, p := range Presets {
		if p.Object != presetObject(object) {
			continue
		}
		all := true
		for _, s := range p.signature {
			all = all && have[s]
		}
		if all {
			return p.Name
		}
	}
	return ""
}

// Guess proposes a field for each column from its heading: the preset's
// table first (named, or detected when preset is ""), then the headings and
// aliases of every field in Japanese and English. Each field is used at most
// once; a column with no match maps to "" (not imported).
func Guess(object string, header []string, preset string) []string {
	return guess(object, FieldsFor(object), header, preset)
}

func guess(object string, fields []Field, header []string, preset string) []string {
	if preset == "" {
		preset = DetectPresetFor(object, header)
	}
	var tables []map[string]string
	for _, p := range Presets {
		if p.Name == preset && p.Object == presetObject(object) {
			tables = append(tables, p.Columns)
		}
	}
	generic := map[string]string{}
	for _, f := range fields {
		for _, n := range append([]string{f.Key, f.EN, f.JA}, f.aliases...) {
			if k := foldHeader(n); generic[k] == "" {
				generic[k] = f.Key
			}
		}
	}
	out := make([]string, len(header))
	used := map[string]bool{}
	try := func(i int, key string) bool {
		if _, ok := lookup(fields, key); !ok || used[key] {
			return false
		}
		out[i], used[key] = key, true
		return true
	}
	// Preset columns first, so a preset's choice wins over a generic alias of
	// a column further left.
	for i, h := range header {
		fh := foldHeader(h)
		for _, t := range tables {
			if key, ok := t[fh]; ok {
				if key == "" || !try(i, key) {
					out[i] = ""
				}
				used["#"+fh] = true // decided by the preset
				break
			}
		}
	}
	for i, h := range header {
		fh := foldHeader(h)
		if out[i] != "" || used["#"+fh] {
			continue
		}
		if key := generic[fh]; key != "" {
			try(i, key)
		}
	}
	return out
}

// FieldKeys lists an object's field keys, sorted, for validation messages.
func FieldKeys(object string) []string {
	var out []string
	for _, f := range FieldsFor(object) {
		out = append(out, f.Key)
	}
	sort.Strings(out)
	return out
}
