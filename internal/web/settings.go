package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
)

// settingsRoutes registers the settings screens (users, teams, pipelines,
// custom properties, workspace, API tokens, notification channels, audit log).
func (s *Server) settingsRoutes() {
	m := s.mux
	m.HandleFunc("GET /settings", s.signedIn(s.settingsIndex))

	m.HandleFunc("GET /settings/profile", s.signedIn(s.profilePage))
	m.HandleFunc("POST /settings/profile", s.signedIn(s.saveProfile))
	m.HandleFunc("POST /settings/profile/password", s.signedIn(s.changePassword))
	m.HandleFunc("POST /settings/profile/totp", s.signedIn(s.beginTOTP))
	m.HandleFunc("POST /settings/profile/totp/enable", s.signedIn(s.enableTOTP))
	m.HandleFunc("POST /settings/profile/notifications", s.signedIn(s.savePrefs))

	m.HandleFunc("GET /settings/tokens", s.signedIn(s.tokensPage))
	m.HandleFunc("POST /settings/tokens", s.signedIn(s.createToken))
	m.HandleFunc("POST /settings/tokens/{id}/revoke", s.signedIn(s.revokeToken))

	m.HandleFunc("GET /settings/users", s.signedIn(s.usersPage))
	m.HandleFunc("POST /settings/users", s.signedIn(s.createUser))
	m.HandleFunc("POST /settings/users/{id}", s.signedIn(s.updateUser))

	m.HandleFunc("GET /settings/teams", s.signedIn(s.teamsPage))
	m.HandleFunc("POST /settings/teams", s.signedIn(s.saveTeam))
	m.HandleFunc("POST /settings/teams/{id}", s.signedIn(s.saveTeam))

	m.HandleFunc("GET /settings/pipelines", s.signedIn(s.pipelinesPage))
	m.HandleFunc("GET /settings/pipelines/new", s.signedIn(s.pipelineForm))
	m.HandleFunc("GET /settings/pipelines/{id}", s.signedIn(s.pipelineForm))
	m.HandleFunc("POST /settings/pipelines", s.signedIn(s.savePipeline))
	m.HandleFunc("POST /settings/pipelines/{id}", s.signedIn(s.savePipeline))
	m.HandleFunc("POST /settings/pipelines/{id}/stages/{stage}/guide", s.signedIn(s.saveStageGuide))

	m.HandleFunc("GET /settings/properties", s.signedIn(s.propertiesPage))
	m.HandleFunc("POST /settings/properties", s.signedIn(s.saveProperty))
	m.HandleFunc("POST /settings/properties/{id}", s.signedIn(s.saveProperty))
	m.HandleFunc("POST /settings/properties/{id}/delete", s.signedIn(s.deleteProperty))

	m.HandleFunc("GET /settings/workspace", s.signedIn(s.workspacePage))
	m.HandleFunc("POST /settings/workspace", s.signedIn(s.saveWorkspace))
	m.HandleFunc("POST /settings/workspace/rates", s.signedIn(s.saveRate))
	m.HandleFunc("POST /settings/workspace/retention", s.signedIn(s.saveRetention))
	m.HandleFunc("POST /settings/workspace/smtp", s.signedIn(s.saveSMTP))
	m.HandleFunc("POST /settings/workspace/smtp/test", s.signedIn(s.testSMTP))

	m.HandleFunc("GET /settings/notifications", s.signedIn(s.channelsPage))
	m.HandleFunc("POST /settings/notifications", s.signedIn(s.createChannel))
	m.HandleFunc("POST /settings/notifications/{id}/delete", s.signedIn(s.deleteChannel))

	m.HandleFunc("GET /settings/audit", s.signedIn(s.auditPage))
	m.HandleFunc("GET /settings/webhooks", s.signedIn(s.webhooksPage))
	m.HandleFunc("POST /settings/webhooks", s.signedIn(s.createWebhook))
	m.HandleFunc("POST /settings/webhooks/{id}/active", s.signedIn(s.toggleWebhook))
	m.HandleFunc("POST /settings/webhooks/{id}/delete", s.signedIn(s.deleteWebhook))
	m.HandleFunc("POST /settings/webhooks/deliveries/{id}/replay", s.signedIn(s.replayWebhook))
	m.HandleFunc("GET /settings/tracking", s.signedIn(s.trackingPage))
	m.HandleFunc("POST /settings/tracking", s.signedIn(s.saveTracking))
	m.HandleFunc("POST /settings/tracking/topics", s.signedIn(s.saveTopicRules))
}

// IsAdmin reports whether the signed-in user is an admin (templates hide
// admin-only links from everyone else; the domain enforces the rule).
func (p Page) IsAdmin() bool { return p.User.Role == platform.RoleAdmin }

// adminOnly refuses a page to non-admins. Writes are checked by the domain;
// this guards pages whose reads the domain leaves open (lists, audit log).
func adminOnly(c *rctx) error {
	if c.User.Role != platform.RoleAdmin {
		return errs.E(errs.Forbidden, "", "only admins open this page")
	}
	return nil
}

// FormErrors are the validation errors of one form: by field, and "" for a
// message shown at the top of the form.
type FormErrors map[string]string

// formErrors turns a domain validation error into FormErrors: fields the form
// shows get their message next to them, anything else goes to the top. ok is
// false for errors that are not validation errors (they render the error page).
func formErrors(lang i18n.Lang, err error, fields ...string) (FormErrors, bool) {
	field, msg, ok := formError(err)
	if !ok {
		return nil, false
	}
	msg = localize(lang, msg)
	fe := FormErrors{}
	switch {
	case field != "" && slices.Contains(fields, field):
		fe[field] = msg
	case field != "":
		fe[""] = field + ": " + msg
	default:
		fe[""] = msg
	}
	return fe, true
}

// formValues copies a parsed form's first values, for showing it again.
func formValues(r *http.Request, skip ...string) map[string]string {
	out := map[string]string{}
	for k, v := range r.PostForm {
		if len(v) > 0 && !slices.Contains(skip, k) {
			out[k] = v[0]
		}
	}
	return out
}

// lines splits a textarea into its non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// saved sets the flash message and redirects after a successful form.
func (s *Server) saved(w http.ResponseWriter, r *http.Request, c *rctx, key, to string) error {
	flash(w, i18nT(c, key))
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// SettingsCard is one entry of the settings index.
type SettingsCard struct {
	Href, Icon, Title, Desc string
	Admin                   bool
}

var settingsCards = []SettingsCard{
	{"/settings/profile", "contacts", "settings.profile.title", "settings.profile.desc", false},
	{"/settings/tokens", "api", "settings.tokens.title", "settings.tokens.desc", false},
	{"/settings/users", "contacts", "settings.users.title", "settings.users.desc", true},
	{"/settings/teams", "company", "settings.teams.title", "settings.teams.desc", true},
	{"/settings/pipelines", "board", "settings.pipelines.title", "settings.pipelines.desc", true},
	{"/settings/properties", "note", "settings.properties.title", "settings.properties.desc", true},
	{"/settings/workspace", "settings", "settings.workspace.title", "settings.workspace.desc", true},
	{"/settings/notifications", "bell", "settings.channels.title", "settings.channels.desc", true},
	{"/settings/tracking", "event", "settings.tracking.title", "settings.tracking.desc", true},
	{"/settings/audit", "report", "settings.audit.title", "settings.audit.desc", true},
	{"/settings/webhooks", "api", "settings.webhooks.title", "settings.webhooks.desc", true},
	{"/settings/quotes", "deal", "settings.quotes.title", "settings.quotes.desc", false},
}

// SettingsPage is the data of the settings index.
type SettingsPage struct {
	Page
	Cards []SettingsCard
}

// SettingsNav lists the sections for the settings tab bar.
func (p Page) SettingsNav() []SettingsCard { return settingsCards }

func (s *Server) settingsIndex(w http.ResponseWriter, r *http.Request, c *rctx) error {
	return s.show(w, c, "settings_index", &SettingsPage{Page: s.base(c, c.Lang, "nav.settings", "settings"), Cards: settingsCards})
}

// i18nT translates a key in the signed-in user's language.
func i18nT(c *rctx, key string, args ...any) string { return i18n.T(c.Lang, key, args...) }
