package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/i18n"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/quote"
	"github.com/ryorin/ryorin/internal/sales"
)

// quoteRoutes: the price list and quote settings, a deal's line items and
// its quotes (HTML and PDF).
func (s *Server) quoteRoutes() {
	if s.Sales == nil {
		return
	}
	m := s.mux
	m.HandleFunc("GET /settings/quotes", s.signedIn(s.quoteSettingsPage))
	m.HandleFunc("POST /settings/quotes", s.signedIn(s.saveQuoteSettings))
	m.HandleFunc("POST /settings/quotes/products", s.signedIn(s.saveProduct))
	m.HandleFunc("POST /settings/quotes/products/{id}", s.signedIn(s.saveProduct))
	m.HandleFunc("POST /deals/{id}/lines", s.signedIn(s.saveDealLines))
	m.HandleFunc("POST /deals/{id}/quotes", s.signedIn(s.issueQuote))
	m.HandleFunc("GET /deals/{id}/quotes/{file}", s.signedIn(s.quoteDocument))
	m.HandleFunc("POST /deals/{id}/approvals", s.signedIn(s.requestApproval))
	m.HandleFunc("POST /deals/{id}/approvals/{aid}/decision", s.signedIn(s.decideApproval))
	s.quoteMailRoutes()
}

// DealQuotes is the line items and quotes panel of a deal's page.
type DealQuotes struct {
	Lines     []sales.LineItem
	Subtotal  float64
	Rows      []LineRow // the edit form: the lines and a few blank rows
	Products  []sales.Product
	Quotes    []sales.Quote
	Approval  sales.ApprovalState
	Edit      bool
	CanEdit   bool
	CanDecide bool
	Error     string
	IssueErr  string
	// Sending a quote to the customer (nil Send without quotemail).
	Send *QuoteSendBox
}

// LineRow is one row of the line items form, as typed.
type LineRow struct {
	I                                                                      int
	ProductID                                                              int64
	Description, Quantity, UnitPrice, DiscountKind, Discount, Billing, Tax string
}

// blankRows is how many empty rows the form offers for new lines.
const blankRows = 3

func (s *Server) loadDealQuotes(r *http.Request, c *rctx, d crm.Deal) (*DealQuotes, error) {
	ctx, q := r.Context(), s.DB.Reader()
	dq := &DealQuotes{Edit: r.URL.Query().Get("lines") == "1", CanEdit: c.Actor.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleSales),
		CanDecide: c.Actor.Is(platform.RoleAdmin, platform.RoleManager)}
	var err error
	if dq.Approval, err = s.Sales.GetApprovalState(ctx, q, c.Actor, d.ID); err != nil {
		return nil, err
	}
	if dq.Lines, err = s.Sales.LineItems(ctx, q, c.Actor, d.ID); err != nil {
		return nil, err
	}
	if dq.Products, err = s.Sales.Products(ctx, q, c.Actor.WorkspaceID, true); err != nil {
		return nil, err
	}
	if dq.Quotes, err = s.Sales.Quotes(ctx, q, c.Actor, d.ID); err != nil {
		return nil, err
	}
	if dq.Send, err = s.loadQuoteSendBox(r, c, d, dq.Quotes); err != nil {
		return nil, err
	}
	for i, l := range dq.Lines {
		dq.Subtotal += l.Total
		row := LineRow{I: i, ProductID: l.ProductID, Description: l.Description, Quantity: strconv.FormatFloat(l.Quantity, 'f', -1, 64),
			UnitPrice: strconv.FormatFloat(l.UnitPrice, 'f', -1, 64), DiscountKind: l.DiscountKind, Billing: string(l.Billing), Tax: string(l.TaxCategory)}
		if l.DiscountKind != "" {
			row.Discount = strconv.FormatFloat(l.Discount, 'f', -1, 64)
		}
		dq.Rows = append(dq.Rows, row)
	}
	for i := 0; i < blankRows; i++ {
		dq.Rows = append(dq.Rows, LineRow{I: len(dq.Rows), Quantity: "1"})
	}
	return dq, nil
}

// parseLineRows reads the form's rows; a row with neither product nor
// description is left out. at maps a saved line back to its form row.
func parseLineRows(r *http.Request) (rows []LineRow, in []sales.LineItemInput, at []int, err error) {
	n, _ := strconv.Atoi(r.PostFormValue("n"))
	if n < 0 || n > 200+blankRows {
		return nil, nil, nil, errs.Field("n", "too many rows")
	}
	for i := 0; i < n; i++ {
		v := func(k string) string { return strings.TrimSpace(r.PostFormValue(fmt.Sprintf("l.%d.%s", i, k))) }
		row := LineRow{I: i, ProductID: formInt(v("product_id")), Description: v("description"), Quantity: v("quantity"), UnitPrice: v("unit_price"),
			DiscountKind: v("discount_kind"), Discount: v("discount"), Billing: v("billing"), Tax: v("tax_category")}
		rows = append(rows, row)
		if v("remove") != "" || (row.ProductID == 0 && row.Description == "") {
			continue
		}
		li := sales.LineItemInput{ProductID: row.ProductID, DiscountKind: row.DiscountKind}
		at = append(at, i)
		field := fmt.Sprintf("lines[%d].", len(in))
		num := func(s, name string) (float64, error) {
			f, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
			if err != nil {
				return 0, errs.Field(field+name, "must be a number")
			}
			return f, nil
		}
		if row.Description != "" {
			li.Description = &row.Description
		}
		if li.Quantity, err = num(row.Quantity, "quantity"); err != nil {
			return rows, in, at, err
		}
		if row.UnitPrice != "" {
			p, err := num(row.UnitPrice, "unit_price")
			if err != nil {
				return rows, in, at, err
			}
			li.UnitPrice = &p
		} else if row.ProductID == 0 {
			return rows, in, at, errs.Field(field+"unit_price", "is required")
		}
		if row.Discount != "" {
			if li.Discount, err = num(row.Discount, "discount"); err != nil {
				return rows, in, at, err
			}
		}
		if row.Billing != "" {
			li.Billing = &row.Billing
		}
		if row.Tax != "" {
			li.TaxCategory = &row.Tax
		}
		in = append(in, li)
	}
	return rows, in, at, nil
}

// lineError says which form row a line error is about: "行 2 数量: …".
func lineError(lang i18n.Lang, err error, at []int) (string, bool) {
	field, msg, ok := formError(err)
	if !ok {
		return "", false
	}
	var i int
	var rest string
	if n, _ := fmt.Sscanf(field, "lines[%d].", &i); n == 1 && i < len(at) {
		rest = field[strings.Index(field, ".")+1:]
		return i18n.T(lang, "lines.row_error", "row", at[i]+1, "field", i18n.T(lang, "lines.field."+rest), "msg", localize(lang, msg)), true
	}
	return strings.TrimPrefix(field+": ", ": ") + localize(lang, msg), true
}

func (s *Server) saveDealLines(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	rows, in, at, err := parseLineRows(r)
	if err == nil {
		_, _, err = s.Sales.SaveLineItems(r.Context(), c.Actor, id, in)
	}
	if msg, ok := lineError(c.Lang, err, at); ok {
		data, lerr := s.loadDealPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Q.Rows, data.Q.Error, data.Q.Edit = rows, msg, true
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "deal", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "lines.saved", fmt.Sprintf("/deals/%d#lines", id))
}

func (s *Server) issueQuote(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	q, err := s.Sales.IssueQuote(r.Context(), c.Actor, id, sales.IssueInput{Lang: r.PostFormValue("lang"), ValidUntil: r.PostFormValue("valid_until")})
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadDealPage(r, c, id)
		if lerr != nil {
			return lerr
		}
		data.Q.IssueErr = localize(c.Lang, msg)
		if field == "approval" {
			data.Q.IssueErr = i18n.T(c.Lang, "approval.needed")
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "deal", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "quotes.issued", fmt.Sprintf("/deals/%d/quotes/%d", id, q.Version))
}

// QuoteDocPage is an issued quote as a printable page, in the quote's language.
type QuoteDocPage struct {
	Page
	Q      sales.Quote
	Doc    quote.Document
	PDFURL string
	Public bool // the customer's view: no way back into the app
}

// quoteDocument serves /deals/{id}/quotes/{n} (HTML) and {n}.pdf.
func (s *Server) quoteDocument(w http.ResponseWriter, r *http.Request, c *rctx) error {
	file := r.PathValue("file")
	n, pdf := strings.CutSuffix(file, ".pdf")
	version, err := strconv.Atoi(n)
	if err != nil || version < 1 {
		return notFound()
	}
	q, err := s.Sales.GetQuote(r.Context(), s.DB.Reader(), c.Actor, formInt(r.PathValue("id")), version)
	if err != nil {
		return err
	}
	if pdf {
		return writeQuotePDF(w, q)
	}
	lang := q.Document.Language()
	data := &QuoteDocPage{Page: s.base(c, lang, "quote.doc.title", "deals"), Q: q, Doc: q.Document,
		PDFURL: fmt.Sprintf("/deals/%d/quotes/%d.pdf", q.DealID, q.Version)}
	data.Title = fmt.Sprintf("%s %s-%d", data.T("quote.doc.title"), q.Number, q.Version)
	return s.show(w, c, "quote_doc", data)
}

// QuoteSettingsPage is the price list and the quote settings.
type QuoteSettingsPage struct {
	Page
	Products   []sales.Product
	Settings   sales.QuoteSettings
	Currencies []string
	CanSell    bool
	CanManage  bool
	Errors     FormErrors // the seller form
	ProdErrors FormErrors // the product forms, "" for the message
	ProdIn     map[string]string
	ProdID     int64 // the product form with the error (0: the new one)
}

func (s *Server) loadQuoteSettings(r *http.Request, c *rctx) (*QuoteSettingsPage, error) {
	ctx, q := r.Context(), s.DB.Reader()
	data := &QuoteSettingsPage{Page: s.base(c, c.Lang, "settings.quotes.title", "settings"), Errors: FormErrors{}, ProdErrors: FormErrors{}, ProdIn: map[string]string{},
		CanSell: c.Actor.Is(platform.RoleAdmin, platform.RoleManager, platform.RoleSales), CanManage: c.Actor.Is(platform.RoleAdmin, platform.RoleManager),
		Currencies: []string{"JPY", "USD", "EUR"}}
	var err error
	if data.Products, err = s.Sales.Products(ctx, q, c.Actor.WorkspaceID, false); err != nil {
		return nil, err
	}
	if data.Settings, err = s.Sales.GetQuoteSettings(ctx, q, c.Actor.WorkspaceID); err != nil {
		return nil, err
	}
	return data, nil
}

func (s *Server) quoteSettingsPage(w http.ResponseWriter, r *http.Request, c *rctx) error {
	data, err := s.loadQuoteSettings(r, c)
	if err != nil {
		return err
	}
	return s.show(w, c, "settings_quotes", data)
}

func (s *Server) saveQuoteSettings(w http.ResponseWriter, r *http.Request, c *rctx) error {
	valid, _ := strconv.Atoi(r.PostFormValue("valid_days"))
	pct, _ := strconv.Atoi(r.PostFormValue("approval_discount_pct"))
	st := sales.QuoteSettings{SellerName: r.PostFormValue("seller_name"), SellerAddress: r.PostFormValue("seller_address"),
		RegistrationNumber: r.PostFormValue("registration_number"), Rounding: quote.Rounding(r.PostFormValue("rounding")), ValidDays: valid, ApprovalDiscountPct: pct}
	_, err := s.Sales.SaveQuoteSettings(r.Context(), c.Actor, st)
	if fe, ok := formErrors(c.Lang, err, "seller_name", "seller_address", "registration_number", "rounding", "valid_days", "approval_discount_pct"); ok {
		data, lerr := s.loadQuoteSettings(r, c)
		if lerr != nil {
			return lerr
		}
		data.Settings, data.Errors = st, fe
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_quotes", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/quotes")
}

func (s *Server) saveProduct(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	f := func(k string) *string { v := strings.TrimSpace(r.PostFormValue(k)); return &v }
	opt := func(k string) *string {
		if v := f(k); *v != "" {
			return v
		}
		return nil
	}
	in := sales.ProductInput{Code: f("code"), Name: f("name"), Currency: opt("currency"), TaxCategory: opt("tax_category"), Billing: opt("billing")}
	active := r.PostFormValue("active") != ""
	in.Active = &active
	price, perr := strconv.ParseFloat(strings.ReplaceAll(*f("unit_price"), ",", ""), 64)
	in.UnitPrice = &price
	var err error
	switch {
	case perr != nil:
		err = errs.Field("unit_price", "must be a number")
	case id == 0:
		_, err = s.Sales.CreateProduct(r.Context(), c.Actor, in)
	default:
		_, err = s.Sales.UpdateProduct(r.Context(), c.Actor, id, in)
	}
	if field, msg, ok := formError(err); ok {
		data, lerr := s.loadQuoteSettings(r, c)
		if lerr != nil {
			return lerr
		}
		data.ProdErrors[""] = strings.TrimPrefix(i18n.T(c.Lang, "settings.quotes."+field)+": ", "settings.quotes.: ") + localize(c.Lang, msg)
		data.ProdID, data.ProdIn = id, formValues(r)
		w.WriteHeader(http.StatusUnprocessableEntity)
		return s.show(w, c, "settings_quotes", data)
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "common.saved", "/settings/quotes")
}

func (s *Server) requestApproval(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	_, err := s.Sales.RequestApproval(r.Context(), c.Actor, id, r.PostFormValue("note"))
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, fmt.Sprintf("/deals/%d#quotes", id), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "approval.requested", fmt.Sprintf("/deals/%d#quotes", id))
}

func (s *Server) decideApproval(w http.ResponseWriter, r *http.Request, c *rctx) error {
	id := formInt(r.PathValue("id"))
	_, err := s.Sales.DecideApproval(r.Context(), c.Actor, id, formInt(r.PathValue("aid")), r.PostFormValue("decision") == "approve", r.PostFormValue("note"))
	if _, msg, ok := formError(err); ok {
		flash(w, localize(c.Lang, msg))
		http.Redirect(w, r, fmt.Sprintf("/deals/%d#quotes", id), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	return s.saved(w, r, c, "approval.decided", fmt.Sprintf("/deals/%d#quotes", id))
}

// writeQuotePDF renders a quote's PDF.
func writeQuotePDF(w http.ResponseWriter, q sales.Quote) error {
	var buf bytes.Buffer
	if err := q.Document.WritePDF(&buf, q.IssuedAt); err != nil {
		return fmt.Errorf("web.quoteDocument: %w", err)
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s-%d.pdf"`, q.Number, q.Version))
	w.Header().Set("Cache-Control", "private, no-store")
	_, err := w.Write(buf.Bytes())
	return err
}
