package lead

import (
	"context"
	"fmt"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// ContactFacts loads what the rule language sees about one contact at now:
// its record, its company's firmographics, its scores and its events of the
// scoring history. Scoring and journeys (conditions, goals) share it, so a
// rule means the same wherever it is written.
func ContactFacts(ctx context.Context, q db.Querier, cs *crm.Service, ws, contactID int64, now time.Time) (rules.Facts, crm.Contact, *crm.Company, error) {
	m, err := contactFactsMany(ctx, q, cs, ws, []int64{contactID}, now)
	if err != nil {
		return rules.Facts{}, crm.Contact{}, nil, err
	}
	x, ok := m[contactID]
	if !ok {
		return rules.Facts{}, crm.Contact{}, nil, errs.NotFoundf("contact %d not found", contactID)
	}
	return x.f, x.ct, x.company, nil
}

// facts is one contact's facts with the records they came from.
type facts struct {
	f       rules.Facts
	ct      crm.Contact
	company *crm.Company
}

// contactFactsMany is ContactFacts for many contacts in four queries (the
// contacts, their scores, their companies, their events); contacts that do
// not exist are absent from the result.
func contactFactsMany(ctx context.Context, q db.Querier, cs *crm.Service, ws int64, ids []int64, now time.Time) (map[int64]facts, error) {
	contacts, err := cs.ContactsByIDs(ctx, q, ws, ids)
	if err != nil {
		return nil, err
	}
	return factsOf(ctx, q, cs, ws, contacts, now)
}

// factsOf is contactFactsMany for contacts already loaded: their companies
// and their events, in two queries.
func factsOf(ctx context.Context, q db.Querier, cs *crm.Service, ws int64, contacts map[int64]crm.Contact, now time.Time) (map[int64]facts, error) {
	var coIDs []int64
	for _, ct := range contacts {
		if ct.CompanyID != 0 {
			coIDs = append(coIDs, ct.CompanyID)
		}
	}
	companies, err := cs.CompaniesByIDs(ctx, q, ws, coIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]facts, len(contacts))
	var found []any
	for id, ct := range contacts {
		x := facts{ct: ct, f: rules.Facts{Title: ct.Title, Department: ct.Department, Email: ct.Email, Stage: string(ct.LifecycleStage),
			Channel: ct.OriginalChannel, Props: ct.Props, Now: now, Fit: ct.Score.Fit, FitGrade: ct.Score.FitGrade, Engagement: ct.Score.Engagement}}
		if co, ok := companies[ct.CompanyID]; ok {
			x.company = &co
			x.f.Industry, x.f.Prefecture = co.Industry, co.Address.Prefecture
			if co.Employees != nil {
				x.f.Employees = int(*co.Employees)
			}
			if co.AnnualRevenue != nil {
				x.f.AnnualRevenue = float64(*co.AnnualRevenue)
			}
		}
		out[id] = x
		found = append(found, id)
	}
	if len(found) == 0 {
		return out, nil
	}
	// The 200 newest events of each contact's scoring history, newest first:
	// what the rules read, from the covering index events_contact (no table
	// rows).
	rows, err := q.QueryContext(ctx, `-- lead.ContactFacts events
		SELECT contact_id, kind, path, occurred_at FROM events
		WHERE workspace_id = ? AND occurred_at >= ? AND contact_id IS NOT NULL AND contact_id IN (`+db.Placeholders(len(found))+`)
		ORDER BY contact_id, occurred_at DESC`, append([]any{ws, db.Millis(now.Add(-scoreHistory))}, found...)...)
	if err != nil {
		return nil, fmt.Errorf("lead.ContactFacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e rules.Event
		var id, at int64
		if err := rows.Scan(&id, &e.Kind, &e.Path, &at); err != nil {
			return nil, fmt.Errorf("lead.ContactFacts: %w", err)
		}
		x := out[id]
		if len(x.f.Events) >= 200 {
			continue
		}
		e.At = db.Time(at)
		x.f.Events = append(x.f.Events, e)
		out[id] = x
	}
	return out, rows.Err()
}

// HandOffTx hands a contact to sales inside tx, as a journey's hand-off step
// does: an early-stage contact becomes MQL with cause, and then, like a
// contact the scorer promotes, is routed to an owner when it has none, its
// follow-up SLA starts and the owner is notified. A contact already at MQL or
// beyond keeps its stage. It returns the owner (0 when nobody fits).
func (sc *Scorer) HandOffTx(ctx context.Context, tx *db.Tx, ws, contactID int64, cause platform.Cause) (int64, error) {
	now := sc.Lead.Clock.Now()
	f, ct, company, err := ContactFacts(ctx, tx, sc.CRM, ws, contactID, now)
	if err != nil {
		return 0, err
	}
	if !early(ct.LifecycleStage) {
		return ct.OwnerID, nil
	}
	to := platform.StageMQL
	if ct, err = sc.CRM.UpdateContactTx(ctx, tx, platform.System(ws), contactID, crm.ContactInput{LifecycleStage: &to}, cause); err != nil {
		return 0, err
	}
	return sc.assignMQL(ctx, tx, ws, ct, company, f, now)
}

// assignMQL does what follows a contact becoming MQL, inside tx: an owned
// contact's follow-up clock starts; one without an owner is routed in the
// same transaction (so a crash never leaves it MQL and unassigned, or
// assigned twice), and its new owner is notified.
func (sc *Scorer) assignMQL(ctx context.Context, tx *db.Tx, ws int64, ct crm.Contact, company *crm.Company, f rules.Facts, now time.Time) (int64, error) {
	sys := platform.System(ws)
	contactID := ct.ID
	if ct.OwnerID != 0 {
		_, err := sc.Lead.startSLA(ctx, tx, ws, contactID, ct.OwnerID, ct.OriginalChannel, f, now)
		return ct.OwnerID, err
	}
	as, err := sc.Lead.route(ctx, tx, ws, ct, company, f)
	if err != nil || as.OwnerID == 0 {
		return 0, err
	}
	if _, err := sc.CRM.UpdateContactTx(ctx, tx, sys, contactID, crm.ContactInput{OwnerID: &as.OwnerID}, platform.Cause{}); err != nil {
		return 0, err
	}
	if _, err := platform.AppendTimeline(ctx, tx, sys, platform.TimelineEntry{At: now, Kind: "lead.assigned", ContactID: contactID, CompanyID: ct.CompanyID},
		map[string]any{"owner_id": as.OwnerID, "reason": as.Reason}); err != nil {
		return 0, err
	}
	if _, err := sc.Lead.startSLA(ctx, tx, ws, contactID, as.OwnerID, ct.OriginalChannel, f, now); err != nil {
		return 0, err
	}
	if sc.Notify == nil {
		return as.OwnerID, nil
	}
	owner, err := platform.GetUser(ctx, tx, ws, as.OwnerID)
	if err != nil {
		return 0, err
	}
	lang, _ := i18n.Parse(owner.Locale)
	name := i18n.PersonName(lang, ct.FamilyName, ct.GivenName)
	if name == "" {
		name = ct.Email
	}
	_, _, err = sc.Notify.Notify(ctx, tx, ws, as.OwnerID, platform.Notification{Kind: "lead.assigned",
		Title: i18n.T(lang, "notify.lead_assigned", "name", name), Body: i18n.T(lang, "notify.lead_assigned_body", "reason", as.Reason),
		Link: fmt.Sprintf("/contacts/%d", contactID), DedupeKey: fmt.Sprintf("lead.assigned:%d:%d", contactID, as.OwnerID)})
	return as.OwnerID, err
}
