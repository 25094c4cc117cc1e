package web

import "html/template"

// icons are simple line drawings on a 24-unit grid, drawn for Ryorin.
var icons = map[string]string{
	"home":     `<path d="M3 11l9-7 9 7"/><path d="M5 10v10h5v-6h4v6h5V10"/>`,
	"contacts": `<circle cx="12" cy="8" r="4"/><path d="M4 21c1-4 4.5-6 8-6s7 2 8 6"/>`,
	"company":  `<rect x="4" y="3" width="11" height="18" rx="1"/><path d="M15 9h5v12h-5M7 7h2M11 7h1M7 11h2M11 11h1M7 15h2M11 15h1"/>`,
	"deal":     `<path d="M3 7h18v12H3z"/><path d="M9 7V5h6v2M3 12h18"/>`,
	"board":    `<rect x="3" y="4" width="5" height="16" rx="1"/><rect x="10" y="4" width="5" height="11" rx="1"/><rect x="17" y="4" width="4" height="7" rx="1"/>`,
	"mkt":      `<path d="M3 11v3l12 5V6L3 11z"/><path d="M15 9a3 3 0 010 6M6 15l1 5h3l-1-4"/>`,
	"sales":    `<path d="M4 19l5-6 4 3 7-9"/><path d="M15 7h5v5"/>`,
	"report":   `<path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/>`,
	"settings": `<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2"/>`,
	"search":   `<circle cx="11" cy="11" r="7"/><path d="M20 20l-4-4"/>`,
	"bell":     `<path d="M6 16V11a6 6 0 0112 0v5l2 2H4z"/><path d="M10 20a2 2 0 004 0"/>`,
	"menu":     `<path d="M4 6h16M4 12h16M4 18h16"/>`,
	"call":     `<path d="M5 4h4l2 5-3 2a11 11 0 005 5l2-3 5 2v4a2 2 0 01-2 2A17 17 0 013 6a2 2 0 012-2z"/>`,
	"email":    `<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>`,
	"meeting":  `<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/>`,
	"demo":     `<rect x="3" y="4" width="18" height="12" rx="1"/><path d="M8 20h8M12 16v4M10 8l5 2-5 2z"/>`,
	"note":     `<path d="M5 3h10l4 4v14H5z"/><path d="M15 3v4h4M8 12h8M8 16h6"/>`,
	"task":     `<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M8 12l3 3 5-6"/>`,
	"event":    `<path d="M12 3v3M12 18v3M3 12h3M18 12h3"/><circle cx="12" cy="12" r="4"/>`,
	"stage":    `<path d="M4 12h16M14 6l6 6-6 6"/>`,
	"api":      `<path d="M8 6l-5 6 5 6M16 6l5 6-5 6M14 4l-4 16"/>`,
	"import":   `<path d="M12 3v12M7 10l5 5 5-5"/><path d="M4 17v3h16v-3"/>`,
	"plus":     `<path d="M12 5v14M5 12h14"/>`,
	"flag":     `<path d="M5 21V4"/><path d="M5 4h11l-2 4 2 4H5"/>`,
	"form":     `<rect x="4" y="3" width="16" height="18" rx="2"/><path d="M8 8h8M8 12h8M8 16h4"/>`,
}

// icon returns an inline SVG icon; unknown names give an empty string.
func icon(name string) template.HTML {
	p, ok := icons[name]
	if !ok {
		return ""
	}
	return template.HTML(`<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">` + p + `</svg>`)
}
