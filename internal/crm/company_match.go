package crm

import (
	"context"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
)

// MatchCompanyTx finds the company a typed-in name means, matching the
// normalized name (株式会社ＡＢＣ, ABC(株) and ㈱ABC are one company); the
// oldest match wins when several share a name. It is NotFound when none does.
func (s *Service) MatchCompanyTx(ctx context.Context, q db.Querier, a platform.Actor, name string) (Company, error) {
	norm := NormalizeCompanyName(name)
	if norm == "" {
		return Company{}, errs.NotFoundf("no company named %q", name)
	}
	c, err := scanCompany(q.QueryRowContext(ctx, `-- crm.MatchCompanyTx
		SELECT `+companyCols+` FROM companies WHERE workspace_id = ? AND name_norm = ? ORDER BY id LIMIT 1`, a.WorkspaceID, norm))
	if db.NoRows(err) {
		return c, errs.NotFoundf("no company named %q", name)
	}
	if err != nil {
		return c, fmt.Errorf("crm.MatchCompanyTx(%q): %w", name, err)
	}
	return c, nil
}

// MatchOrCreateCompanyTx returns the company named name (see MatchCompanyTx),
// creating it from in when there is none, inside the caller's transaction.
// created says which happened. Forms and imports use it so a company typed
// by a visitor joins the existing record instead of duplicating it.
func (s *Service) MatchOrCreateCompanyTx(ctx context.Context, tx *db.Tx, a platform.Actor, name string, in CompanyInput) (c Company, created bool, err error) {
	name = strings.TrimSpace(name)
	c, err = s.MatchCompanyTx(ctx, tx, a, name)
	if err == nil || !errs.Is(err, errs.NotFound) {
		return c, false, err
	}
	now := s.Clock.Now()
	c = Company{CreatedAt: now, UpdatedAt: now, Address: Address{Country: "JP"}}
	in.Name = &name
	if err := in.apply(&c); err != nil {
		return c, false, err
	}
	if err := s.insertCompany(ctx, tx, a, &c, in, now); err != nil {
		return c, false, err
	}
	return c, true, nil
}
