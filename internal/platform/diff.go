package platform

import (
	"encoding/json"
	"reflect"
)

// Diff compares two values of the same struct type field by field (by their
// JSON names) and returns the fields that changed, for the audit log.
// Unexported fields are never included, so secrets kept there stay out.
func Diff(before, after any) map[string]Change {
	out := map[string]Change{}
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	if bv.Kind() == reflect.Pointer {
		bv, av = bv.Elem(), av.Elem()
	}
	if bv.Kind() != reflect.Struct || bv.Type() != av.Type() {
		return out
	}
	t := bv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag := f.Tag.Get("json"); tag != "" {
			if tag == "-" {
				continue
			}
			if n, _, _ := cut(tag); n != "" {
				name = n
			}
		}
		if name == "updated_at" || name == "created_at" {
			continue
		}
		b, a := bv.Field(i).Interface(), av.Field(i).Interface()
		if !reflect.DeepEqual(b, a) {
			if jsonEqual(b, a) {
				continue
			}
			out[name] = Change{From: b, To: a}
		}
	}
	return out
}

func cut(tag string) (string, string, bool) {
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			return tag[:i], tag[i+1:], true
		}
	}
	return tag, "", false
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
