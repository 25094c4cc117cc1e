package forms

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/i18n"
)

// fuzzForm has every kind of field, a required consent and a custom
// property of each type.
func fuzzForm() Form {
	f := Form{ID: 1, Key: "k", Name: "fuzz", ConsentEnabled: true, ConsentRequired: true, ConsentTextJA: "同意",
		AllowedDomains: []string{"example.com"}, props: map[string]crm.PropertyDefinition{
			"budget":   {Key: "budget", Type: crm.PropNumber},
			"start":    {Key: "start", Type: crm.PropDate},
			"size":     {Key: "size", Type: crm.PropSingleChoice, Options: []crm.Option{{Value: "s"}, {Value: "l"}}},
			"topics":   {Key: "topics", Type: crm.PropMultiChoice, Options: []crm.Option{{Value: "ma"}, {Value: "sfa"}}},
			"trial":    {Key: "trial", Type: crm.PropBool},
			"comments": {Key: "comments", Type: crm.PropText},
		}}
	for _, s := range StandardFields {
		f.Fields = append(f.Fields, Field{Key: s.Key, Required: s.Key == "email" || s.Key == "family_name"})
	}
	for k := range f.props {
		f.Fields = append(f.Fields, Field{Key: "prop." + k})
	}
	return f
}

// FuzzParsePost feeds arbitrary form bodies to the parser: it must never
// panic, every value it accepts must be valid UTF-8 within its limits, a
// post without errors must carry a valid email, and errors name only inputs
// the form has.
func FuzzParsePost(f *testing.F) {
	for _, seed := range []string{
		"email=taro%40example.com&family_name=%E5%B1%B1%E7%94%B0&consent=on",
		"email=TARO%40EXAMPLE.COM&family_name=A&family_name_kana=%E3%83%A4%E3%83%9E%E3%83%80&phone=03-1234-5678&prefecture=Tokyo&consent=1",
		"email=&family_name=",
		"email=a%40b&phone=12&prefecture=Atlantis",
		"email=x%40example.com&family_name=x&consent=on&prop.budget=1%2C000&prop.start=2026-04-01&prop.size=s&prop.topics=ma&prop.topics=sfa&prop.trial=on",
		"email=x%40example.com&family_name=x&consent=on&prop.budget=NaN&prop.start=yesterday&prop.size=xl&prop.topics=crm",
		"email=%FF%FE&family_name=%00&consent=on",
		"website=http%3A%2F%2Fspam&_t=abc.def&ryorin_vid=v1&page_url=https%3A%2F%2Fexample.com%2F%3Futm_source%3Dx&_redirect=https%3A%2F%2Fevil.example",
		"utm_source=%0D%0A&page_url=javascript%3Aalert(1)&referrer=%2F%2Fevil",
		"email=" + strings.Repeat("a", 600) + "%40example.com&family_name=" + strings.Repeat("%E3%81%82", 300),
		"%=%&&==&;",
	} {
		f.Add(seed, "ja")
		f.Add(seed, "en")
	}
	form := fuzzForm()
	has := map[string]bool{InputConsent: true, FormError: true}
	for _, fl := range form.Fields {
		has[fl.Key] = true
	}
	f.Fuzz(func(t *testing.T, body, lang string) {
		v, err := url.ParseQuery(body)
		if err != nil && v == nil {
			return
		}
		l, _ := i18n.Parse(lang)
		p, fe := ParsePost(form, v, l)
		for k, msg := range fe {
			if !has[k] {
				t.Errorf("error for an input the form does not have: %q", k)
			}
			if msg == "" || strings.HasPrefix(msg, "forms.") {
				t.Errorf("untranslated error for %s: %q", k, msg)
			}
		}
		for k, val := range p.Values {
			if !utf8.ValidString(val) || len(val) > maxValue || strings.ContainsRune(val, 0) {
				t.Errorf("accepted %s = %q", k, val)
			}
		}
		for _, s := range []string{p.Token, p.VisitorID, p.PageURL, p.Referrer, p.Redirect} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
				t.Errorf("accepted hidden value %q", s)
			}
		}
		if p.PageURL != "" && !strings.HasPrefix(p.PageURL, "http") {
			t.Errorf("page_url %q is not http(s)", p.PageURL)
		}
		if fe == nil {
			if !strings.Contains(p.Values["email"], "@") || p.Values["family_name"] == "" || !p.Consent {
				t.Errorf("no errors, but required values missing: %+v", p)
			}
			if pref, ok := p.Values["prefecture"]; ok {
				if _, ok := prefectureValue(pref); !ok {
					t.Errorf("prefecture %q accepted", pref)
				}
			}
		}
	})
}
