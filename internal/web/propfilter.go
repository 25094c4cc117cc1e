package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
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

// propValue turns a form's text into the JSON value a custom property takes
// (numbers, booleans, lists for multi-choice); an empty value clears it. The
// domain validates the result.
func (s *Server) propValue(r *http.Request, c *rctx, object, key, v string) (any, error) {
	defs, err := s.CRM.Properties(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID, object)
	if err != nil {
		return nil, err
	}
	v = strings.TrimSpace(v)
	for _, d := range defs {
		if d.Key != key {
			continue
		}
		if v == "" {
			return nil, nil
		}
		switch d.Type {
		case crm.PropNumber:
			n, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
			if err != nil {
				return nil, errs.Field("props."+key, "must be a number")
			}
			return n, nil
		case crm.PropBool:
			return v == "true" || v == "1" || v == "yes", nil
		case crm.PropMultiChoice:
			var out []any
			for _, x := range strings.Split(v, ",") {
				if x = strings.TrimSpace(x); x != "" {
					out = append(out, x)
				}
			}
			return out, nil
		}
		return v, nil
	}
	return nil, errs.Field("props."+key, "unknown property %q", key)
}

// ColPicker is the data of a list's "columns" dropdown.
type ColPicker struct {
	Page    Page
	Options []ColOption
}

// ColOption is one column the user may show.
type ColOption struct {
	Key, Label string
	On         bool
}

// colPicker lists the columns all with their labels, marking those chosen.
func colPicker(p Page, all, chosen []string, label func(string) string) ColPicker {
	cp := ColPicker{Page: p}
	for _, c := range all {
		on := false
		for _, x := range chosen {
			on = on || x == c
		}
		cp.Options = append(cp.Options, ColOption{Key: c, Label: label(c), On: on})
	}
	return cp
}
