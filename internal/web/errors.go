package web

import (
	"strings"

	"github.com/ryorin/ryorin/internal/i18n"
)

// fieldMessages maps the domain's most common field messages (English, from
// errs) to catalogue keys, so a form shows them in the user's language. A
// message not listed is shown as the domain wrote it.
var fieldMessages = map[string]string{
	"this is the last active admin; make someone else admin first": "err.last_admin",
	"must be a number":               "err.number",
	"is required":                    "err.required",
	"is not a valid email address":   "err.email",
	"must not be negative":           "err.negative",
	"must not be empty":              "err.required",
	"must be a date YYYY-MM-DD":      "err.date",
	"must be at least 10 characters": "err.password_short",
	"must be a valid 13-digit corporate number (法人番号)":      "err.corporate_number",
	"a contact needs an email address or a name":            "err.contact_needs_name",
	"a contact with this email already exists":              "error.conflict_email",
	"a company with this corporate number already exists":   "err.conflict_corporate_number",
	"a lost deal needs a lost reason":                       "err.lost_reason",
	"is not a domain name":                                  "err.domain",
	"must be between 0 and 10^15":                           "err.amount_range",
	"a user with this email already exists":                 "err.conflict_user",
	"the code does not match; check the time on your phone": "auth.totp_wrong",
}

// localize returns msg in lang when the catalogue has it.
func localize(lang i18n.Lang, msg string) string {
	if key, ok := fieldMessages[msg]; ok {
		return i18n.T(lang, key)
	}
	for prefix, key := range map[string]string{"is longer than": "err.too_long", "unknown property": "err.unknown_property"} {
		if strings.HasPrefix(msg, prefix) {
			return i18n.T(lang, key)
		}
	}
	return msg
}
