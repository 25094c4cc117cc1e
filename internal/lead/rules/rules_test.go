package rules

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func facts() Facts {
	return Facts{Title: "情報システム部長", Email: "ichiro@hikari.example.jp", Industry: "software", Employees: 350, Prefecture: "東京都",
		Props: map[string]any{"budget": 5000000.0}, Now: now,
		Events: []Event{
			{Kind: "page_view", Path: "/pricing", At: now.Add(-2 * 24 * time.Hour)},
			{Kind: "page_view", Path: "/pricing/enterprise", At: now.Add(-3 * 24 * time.Hour)},
			{Kind: "page_view", Path: "/pricing", At: now.Add(-20 * 24 * time.Hour)},
			{Kind: "form_submit", At: now.Add(-time.Hour)},
			{Kind: "email_click", At: now.Add(-5 * 24 * time.Hour)},
		}}
}

func TestRules_EvaluateConditionsAndNumbers(t *testing.T) {
	cases := []struct {
		src  string
		want bool
	}{
		{`visits("/pricing", "7d") >= 2`, true},
		{`visits("/pricing", "30d") == 3`, true},
		{`visits("/pricing", "1d") >= 1`, false},
		{`employees >= 100 && prefecture == "東京都"`, true},
		{`title contains "部長" || title contains "Director"`, true},
		{`submitted("24h") and not free_mail`, true},
		{`count("email_click", "7d") > 0`, true},
		{`props["budget"] >= 1000000`, true},
		{`email_domain == "hikari.example.jp"`, true},
		{`industry in ["software", "finance"]`, true},
	}
	for _, c := range cases {
		r, err := Compile(c.src, Condition)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		got, err := r.Bool(facts())
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.src, got, err, c.want)
		}
	}
	r, err := Compile(`employees >= 300 ? 20 : 5`, Number)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Float(facts()); err != nil || n != 20 {
		t.Fatalf("points = %v, %v", n, err)
	}
}

func TestRules_BadRulesAreRefusedWithPosition(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		has       string
	}{
		{"employees >= \n  10 &&", 2, 0, ""},
		{`employes > 10`, 1, 0, "employes"},
		{`visits("/pricing") > 1`, 1, 0, ""},
		{`title + 1`, 1, 0, ""},
		{`employees`, 1, 0, ""}, // not a condition
		{"", 1, 0, "empty"},
	}
	for _, c := range cases {
		_, err := Compile(c.src, Condition)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: err = %v, want *Error", c.src, err)
			continue
		}
		if e.Line != c.line && c.line != 1 {
			t.Errorf("%q: line %d, want %d", c.src, e.Line, c.line)
		}
		if c.has != "" && !strings.Contains(e.Message, c.has) {
			t.Errorf("%q: message %q lacks %q", c.src, e.Message, c.has)
		}
	}
}

func TestRules_CostLimits(t *testing.T) {
	huge := strings.Repeat("employees > 1 && ", 400) + "true"
	if _, err := Compile(huge, Condition); err == nil {
		t.Error("a rule over the node limit compiled")
	}
	r, err := Compile(`len(map(1..10000000, # * 2)) > 0`, Condition)
	if err != nil {
		t.Fatalf("a small rule that is expensive to run must compile (the limit is at run time): %v", err)
	}
	if _, err := r.Bool(facts()); err == nil {
		t.Error("a rule allocating ten million items ran to the end")
	}
}

func TestRules_ListsThePropertiesARuleReads(t *testing.T) {
	r, err := Compile(`props["budget"] > 0 && props.plan == "pro"`, Condition)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Props, ",") != "budget,plan" {
		t.Errorf("props = %v", r.Props)
	}
}

func TestParseWindow(t *testing.T) {
	for s, want := range map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		if got, err := ParseWindow(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	for _, s := range []string{"", "d", "0d", "-1d", "7y", "400d", "x7d"} {
		if _, err := ParseWindow(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzCompile: any source is compiled or refused with a position, never a
// panic; whatever compiles evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{`visits("/pricing", "7d") >= 2`, `employees > 100 && title contains "部長"`, `props["x"] == nil`,
		`count("email_open", "30d") * 5 > 10`, `(((`, `"\u0000"`, `1..100000000`, `submitted("9999999999999999999d")`, `visits("", "")`} {
		f.Add(s)
	}
	fx := facts()
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Compile(src, Condition)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%q: error of type %T", src, err)
			}
			return
		}
		_, _ = r.Bool(fx)
	})
}

func TestEnv_APreparedEnvFollowsChangesToNowEventsAndScores(t *testing.T) {
	r, err := Compile(`visits("/pricing", "7d") >= 2 && engagement >= 10 && email_domain == "hikari.example.jp"`, Condition)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	evs := []Event{{Kind: "page_view", Path: "/pricing", At: t0}, {Kind: "page_view", Path: "/pricing/plans", At: t0.Add(time.Hour)}}
	x := NewEnv(Facts{Email: "a@HIKARI.example.jp", Now: t0.Add(2 * time.Hour), Events: evs[:1], Engagement: 20})
	for _, c := range []struct {
		name   string
		now    time.Time
		events []Event
		eng    float64
		want   bool
	}{
		{"one visit", t0.Add(2 * time.Hour), evs[:1], 20, false},
		{"two visits", t0.Add(2 * time.Hour), evs, 20, true},
		{"too little engagement", t0.Add(2 * time.Hour), evs, 5, false},
		{"visits out of the window", t0.Add(8 * 24 * time.Hour), evs, 20, false},
		{"second visit not yet happened", t0.Add(30 * time.Minute), evs, 20, false},
	} {
		x.F.Now, x.F.Events, x.F.Engagement = c.now, c.events, c.eng
		got, err := r.BoolIn(x)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
		// The one-shot path agrees.
		if one, _ := r.Bool(x.F); one != got {
			t.Errorf("%s: Bool %v, BoolIn %v", c.name, one, got)
		}
	}
}

// A property of the wrong type given to a helper is an evaluation error
// naming the helper, in both evaluation paths, not a crash.
func TestRules_HelperGivenANumberIsAnErrorNamingIt(t *testing.T) {
	r, err := Compile(`visits(props["x"], "7d") > 0`, Condition)
	if err != nil {
		t.Fatal(err)
	}
	f := Facts{Props: map[string]any{"x": 5.0}}
	if _, err := r.Bool(f); err == nil || !strings.Contains(err.Error(), "visits() takes two texts") {
		t.Errorf("Bool: %v", err)
	}
	if _, err := r.BoolIn(NewEnv(f)); err == nil || !strings.Contains(err.Error(), "visits() takes two texts") {
		t.Errorf("BoolIn: %v", err)
	}
}

// BenchmarkBoolIn_Helpers evaluates a criterion with the two-string helpers
// in a prepared environment, as a backtest does after every event.
func BenchmarkBoolIn_Helpers(b *testing.B) {
	r, err := Compile(`(fit_grade != "D" && visits("/pricing", "14d") >= 2) || count("email_click", "30d") > 3`, Condition)
	if err != nil {
		b.Fatal(err)
	}
	x := NewEnv(facts())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.BoolIn(x); err != nil {
			b.Fatal(err)
		}
	}
}
