package lead

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// FeedItem is one thing sales passed back to marketing: a lead accepted or
// rejected (with reason, note and rating), or a note marked customer voice
// (with topic and, optionally, the campaign it concerns).
type FeedItem struct {
	Kind         string    `json:"kind" enum:"voice,accepted,rejected"`
	At           time.Time `json:"at"`
	UserID       int64     `json:"user_id,omitempty"`
	ContactID    int64     `json:"contact_id,omitempty"`
	DealID       int64     `json:"deal_id,omitempty"`
	ActivityID   int64     `json:"activity_id,omitempty"`
	ActivityKind string    `json:"activity_kind,omitempty"`
	Topic        string    `json:"topic,omitempty" doc:"customer voice topic"`
	Campaign     string    `json:"campaign,omitempty"`
	Reason       string    `json:"reason,omitempty" doc:"rejection reason"`
	Rating       int       `json:"rating,omitempty"`
	Text         string    `json:"text,omitempty" doc:"the note, or the activity's subject and body"`
	Channel      string    `json:"channel,omitempty" doc:"the contact's original channel"`
	FamilyName   string    `json:"family_name,omitempty"`
	GivenName    string    `json:"given_name,omitempty"`
	Email        string    `json:"email,omitempty"`
	CompanyName  string    `json:"company_name,omitempty"`
}

// FeedQuery filters the feed; zero values mean "any".
type FeedQuery struct {
	Kind     string // voice, accepted or rejected
	Topic    string
	Reason   string
	Channel  string
	Campaign string
	From, To time.Time
	Before   time.Time // the page after this moment (newest first)
	Limit    int
	// ItemsOnly skips the summaries (nil): only the page is read, the query
	// stopping after Limit items instead of reading everything that matches.
	ItemsOnly bool
}

// FeedCount is the feed counted for one channel or campaign.
type FeedCount struct {
	Key      string         `json:"key"`
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
	Voices   int            `json:"voices"`
	Topics   map[string]int `json:"topics"`
	Reasons  map[string]int `json:"reasons"`
	// RatingAvg is sales' mean quality rating of the leads (0: none rated).
	RatingAvg float64 `json:"rating_avg"`
	rated     int
	ratingSum int
}

const feedVoiceSQL = `
	SELECT 'voice' AS kind, a.occurred_at AS at, COALESCE(a.created_by, 0) AS user_id, COALESCE(a.contact_id, 0) AS contact_id,
		COALESCE(a.deal_id, 0) AS deal_id, a.id AS activity_id, a.kind AS activity_kind, a.voice_topic AS topic, a.voice_campaign AS campaign,
		'' AS reason, 0 AS rating, a.subject || CASE WHEN a.subject <> '' AND a.body <> '' THEN ' — ' ELSE '' END || a.body AS text,
		COALESCE(c.original_channel, '') AS channel, COALESCE(c.family_name, '') AS family_name, COALESCE(c.given_name, '') AS given_name,
		COALESCE(c.email, '') AS email, COALESCE(co.name, '') AS company_name
	FROM activities a
	LEFT JOIN contacts c ON c.workspace_id = a.workspace_id AND c.id = a.contact_id
	LEFT JOIN companies co ON co.workspace_id = a.workspace_id AND co.id = a.company_id
	WHERE a.workspace_id = ? AND a.voice_topic <> ''`

const feedFeedbackSQL = `
	SELECT CASE WHEN f.decision = 'accept' THEN 'accepted' ELSE 'rejected' END AS kind, f.at AS at, COALESCE(f.user_id, 0) AS user_id,
		f.contact_id AS contact_id, 0 AS deal_id, 0 AS activity_id, '' AS activity_kind, '' AS topic, '' AS campaign, f.reason AS reason,
		f.rating AS rating, f.note AS text, COALESCE(c.original_channel, '') AS channel, COALESCE(c.family_name, '') AS family_name,
		COALESCE(c.given_name, '') AS given_name, COALESCE(c.email, '') AS email, COALESCE(co.name, '') AS company_name
	FROM lead_feedback f
	LEFT JOIN contacts c ON c.workspace_id = f.workspace_id AND c.id = f.contact_id
	LEFT JOIN companies co ON co.workspace_id = c.workspace_id AND co.id = c.company_id
	WHERE f.workspace_id = ?`

// Feed lists sales' feedback, newest first, with a summary per channel and
// per campaign of everything that matches the filters (not just the page).
func (s *Service) Feed(ctx context.Context, q db.Querier, ws int64, fq FeedQuery) (items []FeedItem, byChannel, byCampaign []FeedCount, err error) {
	if fq.Kind != "" && fq.Kind != "voice" && fq.Kind != "accepted" && fq.Kind != "rejected" {
		return nil, nil, nil, errs.Field("kind", "must be voice, accepted or rejected")
	}
	if fq.Limit <= 0 || fq.Limit > 200 {
		fq.Limit = 50
	}
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if fq.Kind != "" {
		add("kind = ?", fq.Kind)
	}
	if fq.Topic != "" {
		add("topic = ?", fq.Topic)
	}
	if fq.Reason != "" {
		add("reason = ?", fq.Reason)
	}
	if fq.Channel != "" {
		add("channel = ?", fq.Channel)
	}
	if fq.Campaign != "" {
		add("campaign = ?", fq.Campaign)
	}
	limit := ""
	if fq.ItemsOnly {
		if !fq.Before.IsZero() {
			add("at < ?", db.Millis(fq.Before))
		}
		limit = " LIMIT " + strconv.Itoa(fq.Limit)
	}
	// The kind and the period narrow each half of the union before it is
	// joined: a month's rejected leads are read from lead_feedback_at alone.
	voice, fb := feedVoiceSQL, feedFeedbackSQL
	va, fa := []any{ws}, []any{ws}
	if !fq.From.IsZero() {
		voice, fb = voice+" AND a.occurred_at >= ?", fb+" AND f.at >= ?"
		va, fa = append(va, db.Millis(fq.From)), append(fa, db.Millis(fq.From))
	}
	if !fq.To.IsZero() {
		voice, fb = voice+" AND a.occurred_at < ?", fb+" AND f.at < ?"
		va, fa = append(va, db.Millis(fq.To)), append(fa, db.Millis(fq.To))
	}
	union, inner := voice+"\n\tUNION ALL"+fb, append(va, fa...)
	switch fq.Kind {
	case "voice":
		union, inner = voice, va
	case "accepted":
		union, inner = fb+" AND f.decision = 'accept'", fa
	case "rejected":
		union, inner = fb+" AND f.decision <> 'accept'", fa
	}
	args = append(inner, args...)
	rows, err := q.QueryContext(ctx, `-- lead.Feed
		SELECT kind, at, user_id, contact_id, deal_id, activity_id, activity_kind, topic, campaign, reason, rating, text, channel,
			family_name, given_name, email, company_name FROM (`+union+`) u
		WHERE `+strings.Join(where, " AND ")+` ORDER BY at DESC, activity_id DESC`+limit, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	chans, camps := map[string]*FeedCount{}, map[string]*FeedCount{}
	count := func(m map[string]*FeedCount, key string, it FeedItem) {
		fc := m[key]
		if fc == nil {
			fc = &FeedCount{Key: key, Topics: map[string]int{}, Reasons: map[string]int{}}
			m[key] = fc
		}
		switch it.Kind {
		case "voice":
			fc.Voices++
			fc.Topics[it.Topic]++
		case "accepted":
			fc.Accepted++
		case "rejected":
			fc.Rejected++
			fc.Reasons[it.Reason]++
		}
		if it.Rating > 0 {
			fc.rated++
			fc.ratingSum += it.Rating
		}
	}
	for rows.Next() {
		var it FeedItem
		var at int64
		if err := rows.Scan(&it.Kind, &at, &it.UserID, &it.ContactID, &it.DealID, &it.ActivityID, &it.ActivityKind, &it.Topic, &it.Campaign,
			&it.Reason, &it.Rating, &it.Text, &it.Channel, &it.FamilyName, &it.GivenName, &it.Email, &it.CompanyName); err != nil {
			return nil, nil, nil, err
		}
		it.At = db.Time(at)
		if !fq.ItemsOnly {
			count(chans, it.Channel, it)
			if it.Campaign != "" {
				count(camps, it.Campaign, it)
			}
		}
		if len(items) < fq.Limit && (fq.Before.IsZero() || it.At.Before(fq.Before)) {
			items = append(items, it)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, err
	}
	if fq.ItemsOnly {
		return items, nil, nil, nil
	}
	return items, sortCounts(chans), sortCounts(camps), nil
}

func sortCounts(m map[string]*FeedCount) []FeedCount {
	out := make([]FeedCount, 0, len(m))
	for _, fc := range m {
		if fc.rated > 0 {
			fc.RatingAvg = float64(fc.ratingSum) / float64(fc.rated)
		}
		out = append(out, *fc)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Accepted+out[i].Rejected+out[i].Voices, out[j].Accepted+out[j].Rejected+out[j].Voices
		if a != b {
			return a > b
		}
		return out[i].Key < out[j].Key
	})
	return out
}
