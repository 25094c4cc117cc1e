// Package rules is the safe expression language lead definitions are written
// in (ADR 0007): fit rules, engagement rules, MQL and disqualification
// criteria. A rule sees one contact's facts and behaviour helpers over time
// windows, nothing else; it is compiled once, checked against the facts'
// types, limited in size at compile time and in memory at run time. It
// imports nothing of ours.
package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// MaxNodes bounds a rule's size (its syntax tree), so a pasted monster is
// refused at compile time.
const MaxNodes = 500

// Event is one behaviour a rule can count.
type Event struct {
	Kind string // page_view, form_submit, email_open, email_click, content_view, …
	Path string // for page views, the URL path
	At   time.Time
}

// Facts is everything a rule may look at: the contact, its company, and its
// recent events.
type Facts struct {
	Title         string
	Department    string
	Email         string
	Stage         string
	Channel       string
	Industry      string
	Prefecture    string
	Employees     int
	AnnualRevenue float64
	Props         map[string]any
	Events        []Event
	Now           time.Time
	// Fit, FitGrade and Engagement are the contact's scores, for MQL and
	// disqualification criteria (zero while the scores are being computed).
	Fit        float64
	FitGrade   string
	Engagement float64
}

// env is the rule's world. Field names are what a marketer writes.
type env struct {
	Title         string         `expr:"title"`
	Department    string         `expr:"department"`
	Email         string         `expr:"email"`
	EmailDomain   string         `expr:"email_domain"`
	FreeMail      bool           `expr:"free_mail"`
	Stage         string         `expr:"stage"`
	Channel       string         `expr:"channel"`
	Industry      string         `expr:"industry"`
	Prefecture    string         `expr:"prefecture"`
	Employees     int            `expr:"employees"`
	AnnualRevenue float64        `expr:"annual_revenue"`
	Props         map[string]any `expr:"props"`
	Fit           float64        `expr:"fit"`
	FitGrade      string         `expr:"fit_grade"`
	Engagement    float64        `expr:"engagement"`

	// visits(path, window): page views of a path (prefix match) in the window, e.g. visits("/pricing", "7d").
	Visits func(path, window string) int `expr:"visits"`
	// count(kind, window): events of a kind in the window, e.g. count("email_click", "30d").
	Count func(kind, window string) int `expr:"count"`
	// submitted(window): whether a form was submitted in the window.
	Submitted func(window string) bool `expr:"submitted"`
}

// freeMail are consumer mail domains, a common negative fit signal.
var freeMail = map[string]bool{"gmail.com": true, "yahoo.co.jp": true, "yahoo.com": true, "hotmail.com": true, "outlook.com": true,
	"outlook.jp": true, "icloud.com": true, "docomo.ne.jp": true, "ezweb.ne.jp": true, "au.com": true, "softbank.ne.jp": true}

// Error is a rule that does not compile, with where and why.
type Error struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Rule is a compiled rule.
type Rule struct {
	Source string
	prog   *vm.Program
	// Props lists the custom properties the rule reads, for the editor to
	// flag unknown ones.
	Props []string
}

// Kind says what a rule must produce.
type Kind int

// The kinds of rules.
const (
	Condition Kind = iota // true or false (criteria, "when" of a points rule)
	Number                // a number (a points formula)
)

// Compile checks and compiles a rule's source.
func Compile(src string, k Kind) (*Rule, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Line: 1, Column: 0, Message: "the rule is empty"}
	}
	if len(src) > 10_000 {
		return nil, &Error{Line: 1, Column: 0, Message: "the rule is longer than 10,000 characters"}
	}
	opts := []expr.Option{expr.Env(env{}), expr.MaxNodes(MaxNodes)}
	if k == Condition {
		opts = append(opts, expr.AsBool())
	} else {
		opts = append(opts, expr.AsFloat64())
	}
	var props propsVisitor
	opts = append(opts, expr.Patch(&props))
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, &Error{Line: fe.Line, Column: fe.Column, Message: fe.Message}
		}
		return nil, &Error{Line: 1, Column: 0, Message: err.Error()}
	}
	// The two-string helpers have no typed call in expr, so each call went
	// through reflection (a backtest makes millions). The checked rule is
	// compiled once more with those calls given the environment as an
	// argument of a registered function, which expr calls directly.
	r := &Rule{Source: src, prog: prog, Props: props.keys}
	var fc fastCalls
	if prog, err := expr.Compile(src, append(opts, expr.Patch(&fc), fastVisits, fastCount)...); err == nil && fc.patched {
		r.prog = prog
	}
	return r, nil
}

// fastCalls rewrites visits(a, b) and count(a, b) into calls of the
// registered functions below, with $env as their first argument.
type fastCalls struct{ patched bool }

func (v *fastCalls) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok || (id.Value != "visits" && id.Value != "count") || len(c.Arguments) != 2 {
		return
	}
	args := append([]ast.Node{&ast.IdentifierNode{Value: "$env"}}, c.Arguments...)
	ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "_" + id.Value}, Arguments: args})
	v.patched = true
}

// envOf is the environment a rule runs in: Env.e, or a fresh env from Bool and Float.
func envOf(x any) *env {
	switch e := x.(type) {
	case *env:
		return e
	case env:
		return &e
	}
	return &env{}
}

var (
	fastVisits = fastHelper("visits", func(e *env, path, window string) int { return e.Visits(path, window) })
	fastCount  = fastHelper("count", func(e *env, kind, window string) int { return e.Count(kind, window) })
)

// fastHelper registers _name(env, text, text) int for the rewritten calls.
func fastHelper(name string, call func(*env, string, string) int) expr.Option {
	return expr.Function("_"+name, func(p ...any) (any, error) {
		a, b, err := twoTexts(name, p)
		if err != nil {
			return nil, err
		}
		return call(envOf(p[0]), a, b), nil
	}, new(func(env, string, string) int))
}

// twoTexts reads a helper's two arguments after $env. The checker admits a
// property (of unknown type) as a text, so a number can arrive at run time.
func twoTexts(name string, p []any) (string, string, error) {
	a, ok1 := p[1].(string)
	b, ok2 := p[2].(string)
	if !ok1 || !ok2 {
		return "", "", fmt.Errorf("%s() takes two texts, got %T and %T", name, p[1], p[2])
	}
	return a, b, nil
}

// propsVisitor collects props["key"] and props.key reads.
type propsVisitor struct{ keys []string }

func (v *propsVisitor) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "props" {
		return
	}
	if s, ok := m.Property.(*ast.StringNode); ok {
		v.keys = append(v.keys, s.Value)
	}
}

// Bool evaluates a condition rule on a contact's facts.
func (r *Rule) Bool(f Facts) (bool, error) {
	out, err := run(r.prog, newEnv(f))
	if err != nil {
		return false, fmt.Errorf("rules: %w", err)
	}
	b, _ := out.(bool)
	return b, nil
}

// Float evaluates a number rule on a contact's facts.
func (r *Rule) Float(f Facts) (float64, error) {
	out, err := run(r.prog, newEnv(f))
	if err != nil {
		return 0, fmt.Errorf("rules: %w", err)
	}
	n, _ := out.(float64)
	return n, nil
}

// vms reuses expression VMs: a run allocates far less than expr.Run, which
// builds a new VM each time.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

func run(p *vm.Program, e any) (any, error) {
	v := vms.Get().(*vm.VM)
	defer vms.Put(v)
	return v.Run(p, e)
}

func newEnv(f Facts) env {
	x := &Env{F: f}
	x.build()
	return x.e
}

// Env is a contact's facts prepared for many evaluations (a replay scores
// one contact dozens of times): the email domain and the behaviour helpers
// are set up once, and Now, Events and the scores in F may change between
// evaluations.
type Env struct {
	F Facts
	e env
}

// NewEnv prepares f for BoolIn.
func NewEnv(f Facts) *Env {
	x := &Env{F: f}
	x.build()
	return x
}

func (x *Env) build() {
	domain := ""
	if i := strings.LastIndexByte(x.F.Email, '@'); i >= 0 {
		domain = strings.ToLower(x.F.Email[i+1:])
	}
	props := x.F.Props
	if props == nil {
		props = map[string]any{}
	}
	since := func(window string) time.Time {
		d, err := ParseWindow(window)
		if err != nil {
			return x.F.Now.Add(time.Nanosecond) // a bad window matches nothing
		}
		return x.F.Now.Add(-d)
	}
	f := &x.F
	x.e = env{
		Title: f.Title, Department: f.Department, Email: f.Email, EmailDomain: domain, FreeMail: freeMail[domain],
		Stage: f.Stage, Channel: f.Channel, Industry: f.Industry, Prefecture: f.Prefecture, Employees: f.Employees,
		AnnualRevenue: f.AnnualRevenue, Props: props,
		Visits: func(path, window string) int {
			from, n := since(window), 0
			for _, e := range f.Events {
				if e.Kind == "page_view" && !e.At.Before(from) && !e.At.After(f.Now) && strings.HasPrefix(e.Path, path) {
					n++
				}
			}
			return n
		},
		Count: func(kind, window string) int {
			from, n := since(window), 0
			for _, e := range f.Events {
				if e.Kind == kind && !e.At.Before(from) && !e.At.After(f.Now) {
					n++
				}
			}
			return n
		},
		Submitted: func(window string) bool {
			from := since(window)
			for _, e := range f.Events {
				if e.Kind == "form_submit" && !e.At.Before(from) && !e.At.After(f.Now) {
					return true
				}
			}
			return false
		},
	}
	x.e.Fit, x.e.FitGrade, x.e.Engagement = f.Fit, f.FitGrade, f.Engagement
}

// BoolIn evaluates a condition rule in a prepared Env, with its current
// F.Now, F.Events and scores.
func (r *Rule) BoolIn(x *Env) (bool, error) {
	x.e.Fit, x.e.FitGrade, x.e.Engagement = x.F.Fit, x.F.FitGrade, x.F.Engagement
	out, err := run(r.prog, &x.e)
	if err != nil {
		return false, fmt.Errorf("rules: %w", err)
	}
	b, _ := out.(bool)
	return b, nil
}

// ParseWindow reads a time window: a number and a unit, h (hours), d (days)
// or w (weeks), e.g. "24h", "7d", "2w"; at most a year.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("rules: bad window %q (use e.g. 24h, 7d, 2w)", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rules: bad window %q (use e.g. 24h, 7d, 2w)", s)
	}
	var unit time.Duration // a switch, not a map literal: this runs for every helper call of a replay
	switch s[len(s)-1] {
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	}
	if unit == 0 || time.Duration(n)*unit > 366*24*time.Hour {
		return 0, fmt.Errorf("rules: bad window %q (use e.g. 24h, 7d, 2w; at most a year)", s)
	}
	return time.Duration(n) * unit, nil
}
