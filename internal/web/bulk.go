package web

import (
	"fmt"
	"github.com/ryorin/ryorin/internal/i18n"
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
)

// bulkRecords applies one action (change owner, delete) to the selected
// companies or deals, each through the same domain call as one record's page.
func (s *Server) bulkRecords(object string) page {
	return func(w http.ResponseWriter, r *http.Request, c *rctx) error {
		if err := r.ParseForm(); err != nil {
			return errs.Field("", "bad form")
		}
		ids := r.PostForm["id"]
		if len(ids) > 200 {
			return errs.Field("id", "at most 200 records at once")
		}
		action, owner := r.PostFormValue("action"), formInt(r.PostFormValue("owner_id"))
		if action != "owner" && action != "delete" {
			return errs.Field("action", "unknown bulk action")
		}
		for _, v := range ids {
			id := formInt(v)
			var err error
			switch {
			case object == "company" && action == "owner":
				_, err = s.CRM.UpdateCompany(r.Context(), c.Actor, id, crm.CompanyInput{OwnerID: &owner})
			case object == "company":
				err = s.CRM.DeleteCompany(r.Context(), c.Actor, id)
			case action == "owner":
				_, err = s.CRM.UpdateDeal(r.Context(), c.Actor, id, crm.DealInput{OwnerID: &owner})
			default:
				err = s.CRM.DeleteDeal(r.Context(), c.Actor, id)
			}
			if err != nil {
				return err
			}
		}
		key := "common.saved"
		if action == "delete" {
			key = "common.deleted"
		}
		flash(w, fmt.Sprintf("%s (%d)", i18n.T(c.Lang, key), len(ids)))
		http.Redirect(w, r, localPath(r.PostFormValue("back")), http.StatusSeeOther)
		return nil
	}
}
