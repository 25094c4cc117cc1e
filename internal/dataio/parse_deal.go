package dataio

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
)

// ParseAmount reads a sum of money as spreadsheets and other CRMs write it:
// full-width digits, thousands separators, a currency sign before or 円 after
// it ("¥1,200,000", "１，２００，０００円", "$1,234.50"). Unit words such as
// 万 are not read. Negative sums and sums over 10^15 are refused.
func ParseAmount(s string) (float64, error) {
	v := strings.TrimSpace(norm.NFKC.String(s))
	v = strings.TrimSpace(strings.TrimLeft(v, "¥$€£"))
	v = strings.TrimPrefix(strings.TrimPrefix(v, "JPY"), "USD")
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(v), "円"), "JPY"))
	v = strings.NewReplacer(",", "", " ", "", "_", "", "、", "").Replace(v)
	if v == "" {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(v, "eEpPxX") {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	if f > 1e15 {
		return 0, fmt.Errorf("%q is more than 10^15", s)
	}
	return f, nil
}

// foldWord folds a label for matching: width, case, spaces and punctuation.
func foldWord(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	return strings.NewReplacer(" ", "", "_", "", "-", "", "・", "", "/", "").Replace(strings.TrimSpace(s))
}

var dealTypes = map[string]string{"new": "new", "newbusiness": "new", "新規": "new", "新規案件": "new", "新規顧客": "new",
	"upsell": "upsell", "existingbusiness": "upsell", "アップセル": "upsell", "追加": "upsell", "既存": "upsell", "クロスセル": "upsell",
	"renewal": "renewal", "更新": "renewal", "契約更新": "renewal", "リニューアル": "renewal"}

// parseDealType reads a deal type in English or Japanese, as HubSpot
// ("newbusiness", "existingbusiness") and Salesforce ("New Business",
// "Existing Business") write it.
func parseDealType(s string) (string, bool) {
	t, ok := dealTypes[foldWord(s)]
	return t, ok
}

var intervals = map[string]string{"month": "month", "monthly": "month", "月": "month", "月次": "month", "毎月": "month", "月額": "month",
	"year": "year", "yearly": "year", "annual": "year", "annually": "year", "年": "year", "年次": "year", "毎年": "year", "年額": "year"}

func parseInterval(s string) (string, bool) {
	t, ok := intervals[foldWord(s)]
	return t, ok
}

// parseEmails reads one or more addresses separated by ";", "," or "、";
// each may be written "Name <a@b.jp>" or "Name (a@b.jp)", as HubSpot writes
// associated contacts.
func parseEmails(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(listSep.Replace(s), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		for _, br := range [][2]string{{"<", ">"}, {"(", ")"}} {
			if i := strings.LastIndex(part, br[0]); i >= 0 {
				if j := strings.Index(part[i:], br[1]); j > 0 {
					part = part[i+1 : i+j]
				}
			}
		}
		e, ok := platform.NormalizeEmail(part)
		if !ok {
			return nil, fmt.Errorf("%q is not a valid email address", part)
		}
		out = append(out, e)
	}
	return out, nil
}

// stageWords are the names other CRMs give closed stages; a stage that is
// not found by name in the pipeline but is one of these maps to the
// pipeline's first stage of that kind.
var stageWords = map[string]string{"closedwon": "won", "won": "won", "受注": "won", "成約": "won", "契約": "won", "成立": "won",
	"closedlost": "lost", "lost": "lost", "失注": "lost", "不成立": "lost", "見送り": "lost"}

// pipelineIndex finds pipelines and their stages by name.
type pipelineIndex struct {
	byName map[string]*crm.Pipeline
	def    *crm.Pipeline
}

func newPipelineIndex(ps []crm.Pipeline) *pipelineIndex {
	ix := &pipelineIndex{byName: map[string]*crm.Pipeline{}}
	for i := range ps {
		p := &ps[i]
		if k := foldWord(p.Name); ix.byName[k] == nil {
			ix.byName[k] = p
		}
		if p.IsDefault && ix.def == nil {
			ix.def = p
		}
	}
	if ix.def == nil && len(ps) > 0 {
		ix.def = &ps[0]
	}
	return ix
}

// pipeline finds a pipeline by name; "" is the default pipeline.
func (ix *pipelineIndex) pipeline(name string) (*crm.Pipeline, bool) {
	if strings.TrimSpace(name) == "" || foldWord(name) == "default" {
		return ix.def, ix.def != nil
	}
	p, ok := ix.byName[foldWord(name)]
	return p, ok
}

// stage finds a stage of p by name, then by the closed-stage words of other
// CRMs; "" is the pipeline's first stage.
func stageOf(p *crm.Pipeline, name string) (crm.PipelineStage, bool) {
	if len(p.Stages) == 0 {
		return crm.PipelineStage{}, false
	}
	if strings.TrimSpace(name) == "" {
		return p.Stages[0], true
	}
	k := foldWord(name)
	for _, st := range p.Stages {
		if foldWord(st.Name) == k {
			return st, true
		}
	}
	if kind := stageWords[k]; kind != "" {
		for _, st := range p.Stages {
			if st.Kind == kind {
				return st, true
			}
		}
	}
	return crm.PipelineStage{}, false
}

var activityKinds = map[string]string{"call": "call", "phone": "call", "phonecall": "call", "loggedcall": "call", "電話": "call", "架電": "call",
	"通話": "call", "email": "email", "e-mail": "email", "mail": "email", "loggedemail": "email", "メール": "email", "eメール": "email",
	"meeting": "meeting", "mtg": "meeting", "商談": "meeting", "打ち合わせ": "meeting", "打合せ": "meeting", "会議": "meeting", "訪問": "meeting",
	"面談": "meeting", "demo": "demo", "デモ": "demo", "note": "note", "notes": "note", "メモ": "note", "備考": "note", "task": "task",
	"todo": "task", "タスク": "task", "やること": "task"}

// parseActivityKind reads an activity's kind in English or Japanese, as the
// app labels them (電話, メール, 打ち合わせ, デモ, メモ, タスク) and as
// other CRMs export them (CALL, Logged call, 商談, 訪問 …).
func parseActivityKind(s string) (string, bool) {
	k, ok := activityKinds[foldWord(s)]
	return k, ok
}

var callOutcomes = map[string]string{"noanswer": "no_answer", "busy": "no_answer", "不在": "no_answer", "話中": "no_answer",
	"gatekeeper": "gatekeeper", "受付止まり": "gatekeeper", "受付": "gatekeeper", "leftlivemessage": "gatekeeper", "伝言": "gatekeeper",
	"connected": "connected", "担当者接続": "connected", "接続": "connected", "appointment": "appointment", "アポ獲得": "appointment",
	"アポ": "appointment", "voicemail": "voicemail", "leftvoicemail": "voicemail", "留守電": "voicemail", "留守番電話": "voicemail",
	"wrongnumber": "wrong_number", "番号違い": "wrong_number"}

// parseCallOutcome reads a call's outcome by its code (no_answer …), the
// app's Japanese label (不在, 受付止まり, 担当者接続, アポ獲得, 留守電,
// 番号違い) or HubSpot's English one (No answer, Busy, Left voicemail …).
func parseCallOutcome(s string) (string, bool) {
	k, ok := callOutcomes[foldWord(s)]
	return k, ok
}

var doneWords = map[string]bool{"completed": true, "complete": true, "done": true, "closed": true, "完了": true, "済": true, "済み": true,
	"notstarted": false, "inprogress": false, "open": false, "deferred": false, "waiting": false, "未完了": false, "未着手": false, "進行中": false}

// parseDone reads whether a task is done: yes/no in either language, or a
// status (Completed, Not Started, 完了, 未着手 …).
func parseDone(s string) (bool, bool) {
	if b, ok := truths[strings.ToLower(strings.TrimSpace(norm.NFKC.String(s)))]; ok {
		return b, true
	}
	b, ok := doneWords[foldWord(s)]
	return b, ok
}
