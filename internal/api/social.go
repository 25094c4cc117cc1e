package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/social"
	"github.com/ryorin/ryorin/internal/platform"
)

// SocialResponse is the social engagement of a period per network, with
// how it is computed.
type SocialResponse struct {
	insight.Social
	Formula string `json:"formula"`
}

func (s *Server) socialRoutes() []op {
	editors := []platform.Role{platform.RoleAdmin, platform.RoleManager, platform.RoleMarketing}
	return []op{
		{Method: "GET", Path: "/api/v1/social", ID: "getSocialEngagement", Summary: "Social engagement of a period per network: impressions, engagements, followers gained, clicks (the months that start in the period)", Tag: "Reports", Resp: SocialResponse{},
			Query: []param{{"period", "string", "month (default), quarter or year (fiscal); a week holds no month start"}, {"offset", "integer", "periods back from the current one (0–120)"},
				{"channel", "string", "only figures entered under this channel"}}, H: s.getSocial},
		{Method: "GET", Path: "/api/v1/social/stats", ID: "listSocialStats", Summary: "The social figures entered, per network and month, newest first", Tag: "Reports", Resp: []social.Stat{},
			Query: []param{{"from", "string", "first month, YYYY-MM (default: 11 months before to)"}, {"to", "string", "last month, YYYY-MM (default: this month)"}}, H: s.listSocialStats},
		{Method: "PUT", Path: "/api/v1/social/stats", ID: "setSocialStat", Summary: "Enter a network's figures for a month (replaces what was entered; all zero removes it)", Tag: "Reports",
			Body: social.Stat{}, Resp: social.Stat{}, Roles: editors, H: s.setSocialStat},
	}
}

func (s *Server) getSocial(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, p, err := s.periodParam(r, a, "month")
	if err != nil {
		return nil, err
	}
	f, err := filterParam(r, insight.FilterScope{Channel: true})
	if err != nil {
		return nil, err
	}
	so, err := insight.SocialOf(r.Context(), s.DB.Reader(), ws, p, f)
	return SocialResponse{Social: so, Formula: insight.SocialFormula}, err
}

func (s *Server) listSocialStats(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	ws, err := platform.GetWorkspace(r.Context(), s.DB.Reader(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now().In(ws.Location())
	to, from := r.URL.Query().Get("to"), r.URL.Query().Get("from")
	if to == "" {
		to = now.Format("2006-01")
	}
	if from == "" {
		from = now.AddDate(0, -11, -now.Day()+1).Format("2006-01")
	}
	if len(from) != 7 || len(to) != 7 {
		return nil, errs.Field("from", "from and to must be months YYYY-MM")
	}
	return social.List(r.Context(), s.DB.Reader(), a.WorkspaceID, from, to)
}

func (s *Server) setSocialStat(w http.ResponseWriter, r *http.Request, a platform.Actor) (any, error) {
	var in social.Stat
	if err := decode(w, r, &in); err != nil {
		return nil, err
	}
	return social.New(s.DB, s.Clock).Set(r.Context(), a, in)
}
