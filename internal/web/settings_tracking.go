package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/interest"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/track"
	"github.com/ryorin/ryorin/internal/trackhttp"
)

// TrackingPage is the data of the web tracking settings: the snippet to
// paste, consent, retention, allowed origins, channel rules and counters.
type TrackingPage struct {
	Page
	In       map[string]string
	Errors   FormErrors
	Snippet  string
	Channels []platform.Channel
	Stats    *track.StatsView
	// TopicRules are the interest topic rules, one "/prefix topic" a line.
	TopicRules string
	TopicErr   string
}

// ruleLine is how a channel rule is written in the form:
// "utm_source = prtimes → referral" (-> works too).
var ruleLine = regexp.MustCompile(`^\s*([a-z_]+)\s*=\s*(.+?)\s*(?:→|->)\s*([a-z0-9_]+)\s*$`)

func formatRules(rules []track.ChannelRule) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "%s = %s → %s\n", r.Field, r.Value, r.Channel)
	}
	return b.String()
}

func parseRules(s string) ([]track.ChannelRule, error) {
	out := []track.ChannelRule{}
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		m := ruleLine.FindStringSubmatch(l)
		if m == nil {
			return nil, errs.Field("channel_rules", "line %d: write a rule as field = value → channel", i+1)
		}
		out = append(out, track.ChannelRule{Field: m[1], Value: m[2], Channel: m[3]})
	}
	return out, nil
}

func (s *Server) loadTracking(r *http.Request, c *rctx) (*TrackingPage, error) {
	if err := adminOnly(c); err != nil {
		return nil, err
	}
	set, err := track.GetSettings(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	data := &TrackingPage{Page: s.base(c, c.Lang, "settings.tracking.title", "settings"), Errors: FormErrors{}, Snippet: trackhttp.PasteHTML(s.publicBase(r, ws)),
		In: map[string]string{"consent_required": strconv.FormatBool(set.ConsentRequired), "retention_days": strconv.Itoa(set.RetentionDays),
			"allowed_origins": strings.Join(set.AllowedOrigins, "\n"), "channel_rules": formatRules(set.ChannelRules)}}
	if data.Channels, err = platform.ListChannels(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	if s.Tracker != nil {
		v := s.Tracker.Stats.View()
		data.Stats = &v
	}
	rules, err := interest.Rules(r.Context(), s.DB.Reader(), c.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	for _, ru := range rules {
		data.TopicRules += ru.Prefix + " " + ru.Topic + "\n"
	}
	return data, nil
}

func (s *Server) trackingPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadTracking(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_tracking", data)
}

func (s *Server) saveTracking(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := r.ParseForm(); err != nil {
		return errs.Field("", "bad form")
	}
	set := track.Settings{ConsentRequired: r.PostFormValue("consent_required") == "1",
		AllowedOrigins: strings.Fields(r.PostFormValue("allowed_origins"))}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("retention_days")))
	if err != nil {
		err = errs.Field("retention_days", "must be a whole number of days")
	}
	if err == nil {
		set.RetentionDays = days
		set.ChannelRules, err = parseRules(r.PostFormValue("channel_rules"))
	}
	if err == nil {
		_, err = track.SaveSettings(r.Context(), s.DB, c.Actor, set, s.Clock.Now())
	}
	if fe, ok := formErrors(c.Lang, err, "retention_days", "allowed_origins", "channel_rules"); ok {
		if f, _, _ := formError(err); strings.HasPrefix(f, "channel_rules[") {
			fe = FormErrors{"channel_rules": fe[""]}
		}
		data, lerr := s.loadTracking(r, c)
		if lerr != nil {
			return lerr
		}
		data.In, data.Errors = formValues(r), fe
		if data.In["consent_required"] == "1" {
			data.In["consent_required"] = "true"
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_tracking", data)
	}
	if err != nil {
		return err
	}
	if s.Tracker != nil {
		s.Tracker.Invalidate(c.Actor.WorkspaceID)
	}
	return s.saved(w, r, c, "common.saved", "/settings/tracking")
}

// saveTopicRules replaces the interest topic rules (path prefix → topic).
func (s *Server) saveTopicRules(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if err := adminOnly(c); err != nil {
		return err
	}
	rules, err := interest.ParseRules(r.PostFormValue("topic_rules"))
	if err == nil {
		err = interest.SetRules(r.Context(), s.DB, c.Actor, rules, s.Clock.Now())
	}
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadTracking(r, c)
		if lerr != nil {
			return lerr
		}
		data.TopicRules, data.TopicErr = r.PostFormValue("topic_rules"), field+": "+localize(c.Lang, msg)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_tracking", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/tracking")
}
