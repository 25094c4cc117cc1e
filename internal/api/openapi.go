package api

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/platform"
)

// enums lists the allowed values of named string types, for the schema.
var enums = map[reflect.Type][]string{}

func init() {
	var stages []string
	for _, s := range platform.Stages {
		stages = append(stages, string(s))
	}
	enums[reflect.TypeFor[platform.Stage]()] = stages
	var roles []string
	for _, r := range platform.Roles {
		roles = append(roles, string(r))
	}
	enums[reflect.TypeFor[platform.Role]()] = roles
}

// OpenAPI returns the OpenAPI 3.1 document for every declared route.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{comps: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, o := range s.ops {
		item := paths[o.Path]
		if item == nil {
			item = map[string]any{}
			paths[o.Path] = item
		}
		item[strings.ToLower(o.Method)] = g.operation(o)
	}
	g.comps["Error"] = g.schema(reflect.TypeFor[httpx.ErrorBody]())
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Ryorin API",
			"version":     s.Version,
			"description": "Marketing automation and sales force automation on one customer record. Authenticate with `Authorization: Bearer <token>` (create one with `ryorin token create --email you@example.com`). Lists are cursor-paginated: pass `next_cursor` back as `cursor`. Creates accept an `Idempotency-Key` header.",
		},
		"servers":    []any{map[string]any{"url": "/"}},
		"paths":      paths,
		"components": map[string]any{"schemas": g.comps, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}, "session": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie}}},
	}
}

var pathParamRe = regexp.MustCompile(`\{([a-z_]+)\}`)

func (g *schemaGen) operation(o op) map[string]any {
	m := map[string]any{"operationId": o.ID, "summary": o.Summary, "tags": []string{o.Tag}}
	var params []any
	for _, p := range pathParamRe.FindAllStringSubmatch(o.Path, -1) {
		params = append(params, map[string]any{"name": p[1], "in": "path", "required": true, "schema": map[string]any{"type": "integer"}})
	}
	for _, q := range o.Query {
		t := q.Type
		if t == "" {
			t = "string"
		}
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Doc, "schema": map[string]any{"type": t}})
	}
	if o.Idempotent {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header",
			"description": "Makes the create safe to retry: the same key and body return the first response.", "schema": map[string]any{"type": "string"}})
	}
	if params != nil {
		m["parameters"] = params
	}
	if o.Consumes != "" {
		m["requestBody"] = map[string]any{"required": true, "content": map[string]any{o.Consumes: map[string]any{"schema": map[string]any{"type": "object",
			"properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}}, "text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}}
	}
	if o.Body != nil {
		m["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(o.Body))}}}
	}
	status := o.Status
	if status == 0 {
		status = 200
	}
	resp := map[string]any{}
	if o.Produces != "" {
		resp[itoa(status)] = map[string]any{"description": "OK", "content": map[string]any{o.Produces: map[string]any{"schema": map[string]any{"type": "string"}}}}
	} else if o.Resp != nil && status != 204 {
		resp[itoa(status)] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(o.Resp))}}}
	} else {
		resp[itoa(status)] = map[string]any{"description": "Done"}
	}
	resp["default"] = map[string]any{"description": "An error naming the field at fault", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	m["responses"] = resp
	if o.Public {
		m["security"] = []any{}
	} else {
		m["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}}
	}
	if len(o.Roles) > 0 {
		var rs []string
		for _, r := range o.Roles {
			rs = append(rs, string(r))
		}
		m["description"] = "Roles: " + strings.Join(rs, ", ")
	}
	return m
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type schemaGen struct{ comps map[string]any }

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schema returns the JSON Schema of t, registering named structs as components.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{}
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := componentName(t)
		if name == "" {
			return g.structSchema(t)
		}
		if _, ok := g.comps[name]; !ok {
			g.comps[name] = map[string]any{} // placeholder breaks recursion
			g.comps[name] = g.structSchema(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				walk(ft)
				continue
			}
			if name == "" {
				name = f.Name
			}
			sc := g.schema(f.Type)
			if d := f.Tag.Get("doc"); d != "" {
				sc = withDoc(sc, d)
			}
			props[name] = sc
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
	}
	walk(t)
	m := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		m["required"] = required
	}
	return m
}

func withDoc(sc map[string]any, d string) map[string]any {
	if _, ok := sc["$ref"]; ok {
		return map[string]any{"allOf": []any{sc}, "description": d}
	}
	out := map[string]any{"description": d}
	for k, v := range sc {
		out[k] = v
	}
	return out
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// componentName turns a Go type name, generic ones included, into a schema
// name: crm.Page[crm.Contact] becomes ContactPage.
func componentName(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		return ""
	}
	base, arg, ok := strings.Cut(n, "[")
	if !ok {
		return n
	}
	arg = strings.TrimSuffix(arg, "]")
	if i := strings.LastIndex(arg, "."); i >= 0 {
		arg = arg[i+1:]
	}
	return nonWord.ReplaceAllString(arg, "") + base
}
