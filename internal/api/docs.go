package api

import (
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
)

var docsTmpl = template.Must(template.New("docs").Funcs(template.FuncMap{
	"json":  func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
	"lower": strings.ToLower,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ryorin API</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header{background:#123;color:#fff;padding:20px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
main{display:grid;grid-template-columns:240px 1fr;gap:24px;padding:24px 32px;max-width:1300px}
nav a{display:block;color:#345;text-decoration:none;padding:2px 0}nav h3{margin:16px 0 4px;font-size:13px;text-transform:uppercase;color:#678}
section.op{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:14px 18px;margin-bottom:14px}
.m{display:inline-block;min-width:62px;text-align:center;font-weight:600;border-radius:4px;padding:1px 6px;color:#fff;font-size:13px}
.get{background:#2b7a4b}.post{background:#1d5fa8}.patch{background:#a86b1d}.put{background:#7a4ba8}.delete{background:#b33}
code{font-family:ui-monospace,Menlo,monospace;font-size:13px}pre{background:#f2f4f7;padding:10px;border-radius:6px;overflow:auto;max-height:340px}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 10px 3px 0;text-align:left}
h2{margin-top:28px}
</style></head><body>
<header><h1>Ryorin API</h1><p>{{.Desc}} — machine-readable: <a style="color:#9cf" href="/api/v1/openapi.json">/api/v1/openapi.json</a></p></header>
<main><nav>{{range .Tags}}<h3>{{.Name}}</h3>{{range .Ops}}<a href="#{{.ID}}">{{.Summary}}</a>{{end}}{{end}}</nav>
<div>{{range .Tags}}<h2>{{.Name}}</h2>{{range .Ops}}
<section class="op" id="{{.ID}}"><div><span class="m {{lower .Method}}">{{.Method}}</span> <code>{{.Path}}</code> — {{.Summary}}{{if .Public}} <em>(public)</em>{{end}}{{if .Roles}} <em>(roles: {{.Roles}})</em>{{end}}</div>
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>description</th></tr>{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Doc}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<details><summary>Request body: <code>{{.BodyName}}</code></summary><pre>{{json .Body}}</pre></details>{{end}}
{{if .Resp}}<details><summary>Response {{.Status}}: <code>{{.RespName}}</code></summary><pre>{{json .Resp}}</pre></details>{{end}}
</section>{{end}}{{end}}
<h2>Schemas</h2>{{range $name, $s := .Schemas}}<details id="schema-{{$name}}"><summary><code>{{$name}}</code></summary><pre>{{json $s}}</pre></details>{{end}}
</div></main></body></html>`))

type docParam struct{ Name, In, Doc string }

type docOp struct {
	ID, Method, Path, Summary, Roles string
	Public                           bool
	Params                           []docParam
	Body, Resp                       any
	BodyName, RespName               string
	Status                           string
}

type docTag struct {
	Name string
	Ops  []docOp
}

// docs renders the OpenAPI document as a readable page, without any script.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	spec := s.OpenAPI()
	schemas := spec["components"].(map[string]any)["schemas"].(map[string]any)
	byTag := map[string][]docOp{}
	var tagOrder []string
	for _, o := range s.ops {
		d := docOp{ID: o.ID, Method: o.Method, Path: o.Path, Summary: o.Summary, Public: o.Public}
		var roles []string
		for _, r := range o.Roles {
			roles = append(roles, string(r))
		}
		d.Roles = strings.Join(roles, ", ")
		opSpec := spec["paths"].(map[string]map[string]any)[o.Path][strings.ToLower(o.Method)].(map[string]any)
		if ps, ok := opSpec["parameters"].([]any); ok {
			for _, p := range ps {
				pm := p.(map[string]any)
				doc, _ := pm["description"].(string)
				d.Params = append(d.Params, docParam{pm["name"].(string), pm["in"].(string), doc})
			}
		}
		if rb, ok := opSpec["requestBody"].(map[string]any); ok {
			d.Body, d.BodyName = resolve(contentSchema(rb["content"].(map[string]any)), schemas)
		}
		for code, rv := range opSpec["responses"].(map[string]any) {
			if code == "default" {
				continue
			}
			d.Status = code
			if c, ok := rv.(map[string]any)["content"].(map[string]any); ok {
				d.Resp, d.RespName = resolve(contentSchema(c), schemas)
			}
		}
		if _, ok := byTag[o.Tag]; !ok {
			tagOrder = append(tagOrder, o.Tag)
		}
		byTag[o.Tag] = append(byTag[o.Tag], d)
	}
	var tags []docTag
	for _, t := range tagOrder {
		tags = append(tags, docTag{t, byTag[t]})
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	info := spec["info"].(map[string]any)
	_ = docsTmpl.Execute(w, map[string]any{"Desc": info["description"], "Tags": tags, "Schemas": schemas})
}

func resolve(sc map[string]any, schemas map[string]any) (any, string) {
	if ref, ok := sc["$ref"].(string); ok {
		n := strings.TrimPrefix(ref, "#/components/schemas/")
		return schemas[n], n
	}
	if sc["type"] == "array" {
		if items, ok := sc["items"].(map[string]any); ok {
			if ref, ok := items["$ref"].(string); ok {
				n := strings.TrimPrefix(ref, "#/components/schemas/")
				return schemas[n], "array of " + n
			}
		}
	}
	return sc, "object"
}

// contentSchema is the JSON schema of a body, or of its first other media
// type (CSV uploads and downloads).
func contentSchema(content map[string]any) map[string]any {
	mt, ok := content["application/json"].(map[string]any)
	if !ok {
		types := make([]string, 0, len(content))
		for t := range content {
			types = append(types, t)
		}
		sort.Strings(types)
		mt, _ = content[types[0]].(map[string]any)
	}
	sc, _ := mt["schema"].(map[string]any)
	return sc
}
