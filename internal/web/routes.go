package web

import "net/http"

// routes lists every UI route in one place.
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /static/{hash}/{name}", s.serveStatic)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("GET /login/totp", s.totpPage)
	m.HandleFunc("POST /login/totp", s.totp)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("GET /setup", s.setupPage)
	m.HandleFunc("POST /setup", s.setup)

	m.HandleFunc("GET /{$}", s.signedIn(s.home))
	m.HandleFunc("GET /search", s.signedIn(s.search))
	m.HandleFunc("GET /notifications", s.signedIn(s.notifications))
	m.HandleFunc("POST /notifications/read-all", s.signedIn(s.readAll))
	m.HandleFunc("POST /settings/language", s.signedIn(s.setLanguage))

	m.HandleFunc("GET /contacts", s.signedIn(s.contacts))
	m.HandleFunc("GET /contacts/new", s.signedIn(s.newContact))
	m.HandleFunc("POST /contacts", s.signedIn(s.createContact))
	m.HandleFunc("POST /contacts/bulk", s.signedIn(s.bulkContacts))
	m.HandleFunc("GET /contacts/{id}", s.signedIn(s.contactPage))
	m.HandleFunc("POST /contacts/{id}", s.signedIn(s.updateContact))
	m.HandleFunc("POST /contacts/{id}/activities", s.signedIn(s.logContactActivity))
	m.HandleFunc("POST /contacts/{id}/feedback", s.signedIn(s.contactFeedback))

	m.HandleFunc("GET /companies", s.signedIn(s.companies))
	m.HandleFunc("GET /companies/new", s.signedIn(s.newCompany))
	m.HandleFunc("POST /companies", s.signedIn(s.createCompany))
	m.HandleFunc("POST /companies/bulk", s.signedIn(s.bulkRecords("company")))
	m.HandleFunc("POST /companies/{id}", s.signedIn(s.updateCompany))
	m.HandleFunc("GET /companies/{id}", s.signedIn(s.companyPage))

	m.HandleFunc("GET /deals", s.signedIn(s.deals))
	m.HandleFunc("GET /deals/board", s.signedIn(s.board))
	m.HandleFunc("GET /deals/new", s.signedIn(s.newDeal))
	m.HandleFunc("POST /deals/bulk", s.signedIn(s.bulkRecords("deal")))
	m.HandleFunc("POST /deals/new", s.signedIn(s.createDeal))
	m.HandleFunc("GET /deals/{id}", s.signedIn(s.dealPage))
	m.HandleFunc("POST /deals/{id}", s.signedIn(s.updateDeal))
	m.HandleFunc("POST /deals/{id}/move", s.signedIn(s.moveDeal))
	m.HandleFunc("POST /deals/{id}/activities", s.signedIn(s.logDealActivity))

	m.HandleFunc("POST /views", s.signedIn(s.saveView))
	m.HandleFunc("POST /views/{id}/delete", s.signedIn(s.deleteView))

	s.settingsRoutes()

	m.HandleFunc("/", s.signedIn(func(w http.ResponseWriter, r *http.Request, c *rctx) error {
		return notFound()
	}))
}
