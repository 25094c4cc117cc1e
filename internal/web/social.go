package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/dataio"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/httpx"
	"github.com/ryorin/ryorin/internal/insight"
	"github.com/ryorin/ryorin/internal/marketing/social"
	"github.com/ryorin/ryorin/internal/platform"
)

// SocialPage shows the social engagement of a period per network, the
// figures entered for the last twelve months, and the forms to enter or
// import them.
type SocialPage struct {
	Page
	S        insight.Social
	Offset   int
	Formula  string
	Entries  []social.Stat
	Networks []string
	Channels []platform.Channel
	Filter   insight.KPIFilter
	MayEdit  bool
	Month    string // the form's default month
	Error    string
	Imported *social.ImportResult
	Chart    BarChart
}

// RateText formats an engagement rate, — without impressions.
func (p *SocialPage) RateText(r insight.SocialRow) string {
	if r.Impressions == 0 {
		return "—"
	}
	return strconv.FormatFloat(100*r.Rate(), 'f', 2, 64) + "%"
}

// NetworkName names a social network in the page's language.
func (p *SocialPage) NetworkName(n string) string { return p.T("social.net." + n) }

func (s *Server) socialPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.socialData(r, c)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "csv" {
		return s.download(w, "social-"+c.Now.In(c.Loc).Format("20060102")+".csv", func(d *httpx.Download) error {
			return writeSocialCSV(d, data)
		})
	}
	return s.show(w, c, "reports_social", data)
}

func (s *Server) socialData(r *http.Request, c *rctx) (*SocialPage, error) {
	ctx := r.Context()
	q := r.URL.Query()
	p, off, err := c.period(q, "month")
	if err != nil {
		return nil, err
	}
	data := &SocialPage{Page: s.base(c, c.Lang, "social.title", "reports"), Offset: off, Formula: insight.SocialFormula, Networks: social.Networks,
		Filter: insight.KPIFilter{Channel: q.Get("channel")}, MayEdit: social.MayEdit(c.Actor.Role)}
	data.Tab = "social"
	rd := s.DB.Reader()
	if data.S, err = insight.SocialOf(ctx, rd, c.WS, p, data.Filter); err != nil {
		return nil, err
	}
	if data.Channels, err = platform.ListChannels(ctx, rd, c.WS.ID); err != nil {
		return nil, err
	}
	now := c.Now.In(c.Loc)
	data.Month = now.Format("2006-01")
	if data.Entries, err = social.List(ctx, rd, c.WS.ID, now.AddDate(0, -11, -now.Day()+1).Format("2006-01"), data.Month); err != nil {
		return nil, err
	}
	var labels []string
	var vals [][]float64
	for _, row := range data.S.Rows {
		labels = append(labels, data.NetworkName(row.Network))
		vals = append(vals, []float64{float64(row.Engagements)})
	}
	data.Chart = barChart(data.Page, "social-engagements", data.T("social.chart"), data.T("social.chart_desc"), labels, []string{data.T("social.engagements")}, vals,
		func(v float64) string { return strconv.FormatInt(int64(v), 10) }, "/reports/social?period="+p.Name+"&offset="+strconv.Itoa(off)+"&format=csv"+ReportFilter{F: data.Filter}.Query())
	return data, nil
}

func (s *Server) saveSocialPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	st := social.Stat{Month: strings.TrimSpace(r.PostFormValue("month")), Network: r.PostFormValue("network"), Channel: r.PostFormValue("channel")}
	var err error
	for _, f := range []struct {
		name string
		to   *int64
	}{{"impressions", &st.Impressions}, {"engagements", &st.Engagements}, {"followers_gained", &st.FollowersGained}, {"clicks", &st.Clicks}} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		if v == "" {
			continue
		}
		if *f.to, err = dataio.ParseInt(v); err != nil {
			err = errs.Field(f.name, "must be a whole number")
			break
		}
	}
	if err == nil {
		_, err = social.New(s.DB, s.Clock).Set(r.Context(), c.Actor, st)
	}
	if _, msg, ok := formError(err); ok {
		return s.socialFailed(w, r, c, localize(c.Lang, msg), nil)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/reports/social")
}

// maxSocialUpload bounds a social figures CSV: a few years of every
// network fits in a few kilobytes.
const maxSocialUpload = 1 << 20

func (s *Server) importSocialPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	if !social.MayEdit(c.Actor.Role) {
		return errs.E(errs.Forbidden, "", "only marketing, managers and admins may enter social figures")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSocialUpload)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "multipart/form-data" {
		return s.socialFailed(w, r, c, s.base(c, c.Lang, "", "").T("import.choose_file"), nil)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errs.Field("file", "bad upload: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return s.socialFailed(w, r, c, s.base(c, c.Lang, "", "").T("import.choose_file"), nil)
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return s.socialFailed(w, r, c, s.base(c, c.Lang, "", "").T("import.too_large"), nil)
		}
		if err != nil {
			return err
		}
		if part.FormName() != "file" {
			continue
		}
		res, err := social.New(s.DB, s.Clock).Import(r.Context(), c.Actor, part)
		if _, msg, ok := formError(err); ok {
			return s.socialFailed(w, r, c, localize(c.Lang, msg), nil)
		}
		if errors.As(err, &mbe) {
			return s.socialFailed(w, r, c, s.base(c, c.Lang, "", "").T("import.too_large"), nil)
		}
		if err != nil {
			return err
		}
		return s.socialFailed(w, r, c, "", &res)
	}
}

// socialFailed shows the page again with an error or an import's result.
func (s *Server) socialFailed(w http.ResponseWriter, r *http.Request, c *rctx, msg string, res *social.ImportResult) error {
	data, err := s.socialData(r, c)
	if err != nil {
		return err
	}
	data.Error, data.Imported = msg, res
	if msg != "" {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	return s.show(w, c, "reports_social", data)
}

// writeSocialCSV writes the period's figures per network, as the table on
// the screen shows them.
func writeSocialCSV(d *httpx.Download, p *SocialPage) error {
	cw := dataio.NewCSVWriter(d) // with the BOM Excel needs
	if err := cw.Write([]string{p.T("social.network"), p.T("social.impressions"), p.T("social.engagements"), p.T("social.rate"), p.T("social.followers_gained"), p.T("social.clicks")}); err != nil {
		return err
	}
	rows := append(append([]insight.SocialRow{}, p.S.Rows...), p.S.Total)
	for i, x := range rows {
		name := p.T("funnel.total")
		if i < len(p.S.Rows) {
			name = p.NetworkName(x.Network)
		}
		rate := ""
		if x.Impressions > 0 {
			rate = strconv.FormatFloat(100*x.Rate(), 'f', 2, 64)
		}
		if err := cw.Write([]string{name, strconv.FormatInt(x.Impressions, 10), strconv.FormatInt(x.Engagements, 10), rate,
			strconv.FormatInt(x.FollowersGained, 10), strconv.FormatInt(x.Clicks, 10)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
