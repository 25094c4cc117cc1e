// Package interest owns contacts' interest profiles: topics weighted by the
// pages they viewed (through editable path-prefix topic rules), the content
// they viewed (content_view events carry their topics) and the links they
// clicked in campaigns tagged with topics, each engagement decaying with a
// half-life. Profiles are computed on read, for a batch of contacts at a time
// (a send batch, a contact page), never stored. It reads events and email
// campaigns through db and imports platform only; never email, web or api.
package interest

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"
)

// HalfLife is how long an engagement takes to count half as much.
const HalfLife = 30 * 24 * time.Hour

// horizon is how far back a profile looks: after eight half-lives an
// engagement weighs under 0.4% of a fresh one.
const horizon = 8 * HalfLife

// Engagement weights: a content view says more about interest than a page
// view, and a click on a tagged email link more still.
const (
	weightPage    = 1.0
	weightContent = 2.0
	weightClick   = 3.0
)

// Event kinds a profile reads.
const (
	kindPageView    = "page_view"
	kindContentView = "content_view"
	kindEmailClick  = "email_click"
)

// Rule maps pages whose path starts with Prefix to Topic.
type Rule struct {
	Prefix string `json:"prefix"`
	Topic  string `json:"topic"`
}

// DefaultRules are a workspace's topic rules until it saves its own.
var DefaultRules = []Rule{
	{Prefix: "/pricing", Topic: "pricing"},
	{Prefix: "/case-studies", Topic: "case_studies"},
	{Prefix: "/cases", Topic: "case_studies"},
	{Prefix: "/blog", Topic: "blog"},
	{Prefix: "/webinar", Topic: "webinars"},
	{Prefix: "/integrations", Topic: "integrations"},
	{Prefix: "/security", Topic: "security"},
}

// TopicFor returns the topic of the longest rule prefix that path starts
// with, or "". A prefix matches whole segments: /pricing matches
// /pricing and /pricing/team, not /pricingplans.
func TopicFor(rules []Rule, path string) string {
	best, topic := -1, ""
	for _, r := range rules {
		p := strings.TrimRight(r.Prefix, "/")
		if p == "" {
			p = "/"
		}
		ok := path == p || strings.HasPrefix(path, p+"/") || (p == "/" && strings.HasPrefix(path, "/"))
		if ok && len(p) > best {
			best, topic = len(p), r.Topic
		}
	}
	return topic
}

// Weight is one topic of a profile.
type Weight struct {
	Topic  string  `json:"topic"`
	Weight float64 `json:"weight"`
}

// Profile is a contact's topics, strongest first.
type Profile []Weight

// Top returns the strongest topic, or "" for an empty profile.
func (p Profile) Top() string {
	if len(p) == 0 {
		return ""
	}
	return p[0].Topic
}

// Decay is how much an engagement of the given age still counts (1 when
// fresh, ½ after HalfLife). Future times (clock skew) count as fresh.
func Decay(age time.Duration) float64 {
	if age <= 0 {
		return 1
	}
	return math.Exp2(-float64(age) / float64(HalfLife))
}

// engagement is one event as a profile counts it.
type engagement struct {
	contact int64
	at      time.Time
	weight  float64
	topics  []string
}

// profiles sums decayed engagements per contact and topic.
func profiles(es []engagement, now time.Time) map[int64]Profile {
	sums := map[int64]map[string]float64{}
	for _, e := range es {
		m := sums[e.contact]
		if m == nil {
			m = map[string]float64{}
			sums[e.contact] = m
		}
		w := e.weight * Decay(now.Sub(e.at))
		for _, t := range e.topics {
			m[t] += w
		}
	}
	out := make(map[int64]Profile, len(sums))
	for c, m := range sums {
		p := make(Profile, 0, len(m))
		for t, w := range m {
			p = append(p, Weight{Topic: t, Weight: math.Round(w*100) / 100})
		}
		// Ties go to the topic first in alphabetical order, so a send and
		// its preview always agree.
		sort.Slice(p, func(i, j int) bool {
			if p[i].Weight != p[j].Weight {
				return p[i].Weight > p[j].Weight
			}
			return p[i].Topic < p[j].Topic
		})
		out[c] = p
	}
	return out
}

// NormalizeTopic trims and lower-cases a topic; topics are compared as keys.
func NormalizeTopic(t string) string {
	return strings.ToLower(strings.TrimSpace(t))
}

// topicsOf reads a "topics" array of strings from event properties; anything
// else (a string, numbers, a missing key) gives no topics.
func topicsOf(props []byte) []string {
	if len(props) == 0 {
		return nil
	}
	var p struct {
		Topics []any `json:"topics"`
	}
	if json.Unmarshal(props, &p) != nil {
		return nil
	}
	var out []string
	for _, v := range p.Topics {
		if s, ok := v.(string); ok {
			if s = NormalizeTopic(s); s != "" && len(s) <= 100 {
				out = append(out, s)
			}
		}
	}
	return out
}

// campaignOf reads the campaign id of an email_click event.
func campaignOf(props []byte) int64 {
	var p struct {
		CampaignID int64 `json:"campaign_id"`
	}
	if len(props) == 0 || json.Unmarshal(props, &p) != nil {
		return 0
	}
	return p.CampaignID
}

// ParseTopics decodes a campaign's stored topics ("" or a JSON array).
func ParseTopics(s string) []string {
	if s == "" {
		return nil
	}
	var ts []string
	if json.Unmarshal([]byte(s), &ts) != nil {
		return nil
	}
	return ts
}
