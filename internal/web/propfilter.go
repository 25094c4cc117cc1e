package web

import (
	"net/http"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
)

// PropFilter is the custom-property part of a list's filter form.
type PropFilter struct {
	Page  Page
	Props []crm.PropertyDefinition
	Vals  map[string]string
}

// Label is a custom property's label in the page's language.
func (f PropFilter) Label(d crm.PropertyDefinition) string {
	if f.Page.Lang == "ja" {
		return d.LabelJA
	}
	return d.LabelEN
}

// OptLabel is a choice option's label in the page's language.
func (f PropFilter) OptLabel(o crm.Option) string {
	if f.Page.Lang == "ja" {
		return o.LabelJA
	}
	return o.LabelEN
}

// Active reports whether any property filter is set.
func (f PropFilter) Active() bool { return len(f.Vals) > 0 }

// propFilter reads prop.<key> filters for an object type's custom properties
// and returns the form's data and the filter for the list query.
func (s *Server) propFilter(r *http.Request, c *rctx, p Page, object string) (PropFilter, map[string]string, error) {
	defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, object)
	if err != nil {
		return PropFilter{}, nil, err
	}
	pf := PropFilter{Page: p, Props: defs, Vals: map[string]string{}}
	var q map[string]string
	for _, d := range defs {
		if v := strings.TrimSpace(r.URL.Query().Get("prop." + d.Key)); v != "" {
			if q == nil {
				q = map[string]string{}
			}
			q[d.Key], pf.Vals[d.Key] = v, v
		}
	}
	return pf, q, nil
}
