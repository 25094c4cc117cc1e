package insight

import "strings"

// KPIFilter narrows the KPIs to a channel (contacts' original channel), a
// campaign (its members), a team or an owner (of the contact, deal or
// activity counted) and a pipeline (deals, and activities on its deals).
// The zero filter counts everything.
type KPIFilter struct {
	Channel    string `json:"channel,omitempty"`
	CampaignID int64  `json:"campaign_id,omitempty"`
	TeamID     int64  `json:"team_id,omitempty"`
	OwnerID    int64  `json:"owner_id,omitempty"`
	PipelineID int64  `json:"pipeline_id,omitempty"`
}

// Empty reports whether the filter counts everything.
func (f KPIFilter) Empty() bool { return f == KPIFilter{} }

// FilterFormula says how a filter narrows each kind of figure.
const FilterFormula = "channel: contacts whose original channel it is (deals: with such a contact; activities: on such a contact); campaign: its members (likewise); team and owner: the owner of the contact, deal or activity; pipeline: deals in it and activities on them — figures about contacts alone are not narrowed by pipeline, and CAC and LTV are not narrowed"

// cond is the SQL (starting with " AND ") that narrows rows of the kind on
// (contacts, lifecycle, deals, activities) in workspace ws, its arguments,
// and whether every part of the filter applies to that kind.
func (f KPIFilter) cond(on string, ws int64) (string, []any, bool) {
	var parts []string
	var args []any
	applies := true
	add := func(sql string, a ...any) {
		parts = append(parts, sql)
		args = append(args, a...)
	}
	// What narrows a contact: its owner, team, channel and campaigns.
	contact := func(col string) {
		var cs []string
		var ca []any
		if f.OwnerID != 0 && on != "deals" && on != "activities" {
			cs, ca = append(cs, "owner_id = ?"), append(ca, f.OwnerID)
		}
		if f.TeamID != 0 && on != "deals" && on != "activities" {
			cs, ca = append(cs, "owner_id IN (SELECT id FROM users WHERE workspace_id = ? AND team_id = ?)"), append(ca, ws, f.TeamID)
		}
		if f.Channel != "" {
			cs, ca = append(cs, "original_channel = ?"), append(ca, f.Channel)
		}
		if f.CampaignID != 0 {
			cs, ca = append(cs, "id IN (SELECT contact_id FROM campaign_members WHERE workspace_id = ? AND campaign_id = ?)"), append(ca, ws, f.CampaignID)
		}
		if len(cs) == 0 {
			return
		}
		if col == "id" {
			add(strings.Join(cs, " AND "), ca...)
			return
		}
		add(col+" IN (SELECT id FROM contacts WHERE workspace_id = ? AND "+strings.Join(cs, " AND ")+")", append([]any{ws}, ca...)...)
	}
	owner := func() {
		if f.OwnerID != 0 {
			add("owner_id = ?", f.OwnerID)
		}
		if f.TeamID != 0 {
			add("owner_id IN (SELECT id FROM users WHERE workspace_id = ? AND team_id = ?)", ws, f.TeamID)
		}
	}
	switch on {
	case "contacts":
		contact("id")
		applies = f.PipelineID == 0
	case "lifecycle":
		contact("contact_id")
		applies = f.PipelineID == 0
	case "deals":
		owner()
		if f.PipelineID != 0 {
			add("pipeline_id = ?", f.PipelineID)
		}
		if f.Channel != "" || f.CampaignID != 0 {
			var cs []string
			ca := []any{ws}
			if f.Channel != "" {
				cs, ca = append(cs, "c.original_channel = ?"), append(ca, f.Channel)
			}
			if f.CampaignID != 0 {
				cs, ca = append(cs, "c.id IN (SELECT contact_id FROM campaign_members WHERE workspace_id = ? AND campaign_id = ?)"), append(ca, ws, f.CampaignID)
			}
			add(`id IN (SELECT dc.deal_id FROM deal_contacts dc JOIN contacts c ON c.workspace_id = dc.workspace_id AND c.id = dc.contact_id
				WHERE dc.workspace_id = ? AND `+strings.Join(cs, " AND ")+")", ca...)
		}
	case "activities":
		owner()
		contact("contact_id")
		if f.PipelineID != 0 {
			add("deal_id IN (SELECT id FROM deals WHERE workspace_id = ? AND pipeline_id = ?)", ws, f.PipelineID)
		}
	default:
		return "", nil, f.Empty()
	}
	if len(parts) == 0 {
		return "", nil, applies
	}
	return " AND " + strings.Join(parts, " AND "), args, applies
}

// FilterScope says which parts of a KPIFilter a report honours and how.
type FilterScope struct {
	Channel, Campaign, Team, Owner, Pipeline bool
	// How says what each part narrows in this report.
	How string
}

// Applies reports whether the scope honours every part f sets.
func (s FilterScope) Applies(f KPIFilter) bool {
	return (s.Channel || f.Channel == "") && (s.Campaign || f.CampaignID == 0) && (s.Team || f.TeamID == 0) &&
		(s.Owner || f.OwnerID == 0) && (s.Pipeline || f.PipelineID == 0)
}

// The filter scopes of the funnel, channel and rep reports.
var (
	FunnelScope = FilterScope{Channel: true, Campaign: true, Team: true, Owner: true,
		How: "the cohorts keep the contacts whose original channel it is, the campaign's members, and the contacts the team or owner owns; a pipeline does not narrow contacts"}
	ChannelScope = FilterScope{Channel: true, Campaign: true, Team: true, Owner: true, Pipeline: true,
		How: "leads (and their stages, verdicts and deals) are the contacts the channel, campaign, team and owner keep; a pipeline keeps the won and lost deals in it; visits are narrowed by channel only, spend by channel and campaign"}
	RepScope = FilterScope{Channel: true, Campaign: true, Team: true, Owner: true, Pipeline: true,
		How: "team and owner choose the reps; channel and campaign keep leads, activities and deals on such contacts; a pipeline keeps the deals in it and activities on them, and does not narrow leads received"}
)

// AlignmentScope is the alignment report's filter: every part, each section
// honouring what its own report honours (the KPIs and channel quality all of
// it, the funnel FunnelScope, campaign results channel and campaign); the
// plan's pacing, SLA, quotes, news, definition changes and closed deals are
// the whole workspace's.
var AlignmentScope = FilterScope{Channel: true, Campaign: true, Team: true, Owner: true, Pipeline: true,
	How: "the KPIs and channel quality (with its top rejection reasons) take every part; the funnel all but the pipeline; campaign results channel and campaign; pacing, SLA, quotes, news, definition changes and deals won and lost are not filtered"}
