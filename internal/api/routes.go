package api

import (
	"net/http"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/platform"
)

var (
	admin       = []platform.Role{platform.RoleAdmin}
	adminOrMgr  = []platform.Role{platform.RoleAdmin, platform.RoleManager}
	listParams  = []param{{"cursor", "string", "next_cursor from the previous page"}, {"limit", "integer", "page size, 1–200 (default 50)"}}
	timelineQ   = []param{{"kind", "string", "only entries of this kind (repeatable)"}, {"cursor", "string", "next_cursor from the previous page"}, {"limit", "integer", "page size, 1–200 (default 50)"}}
	contactQ    = append([]param{{"owner_id", "integer", "owner user id"}, {"lifecycle_stage", "string", "lifecycle stage"}, {"company_id", "integer", "company id"}, {"q", "string", "partial match on name (kanji, kana, Latin), email or phone"}, {"email", "string", "exact email"}, {"sort", "string", "-last_activity_at (default; name for 1–2 character searches), name, -created_at, -updated_at, updated_at"}, {"prop.<key>", "string", "custom property equals value"}}, listParams...)
	companyQ    = append([]param{{"owner_id", "integer", "owner user id"}, {"q", "string", "partial match on name, kana, domain"}, {"domain", "string", "exact domain"}, {"corporate_number", "string", "法人番号"}, {"sort", "string", "name (default), -created_at, -updated_at, updated_at"}, {"prop.<key>", "string", "custom property equals value"}}, listParams...)
	propertiesQ = []param{{"object_type", "string", "contact, company or deal"}}
)

// routes declares every API route. Registering and documenting happen from
// this one list, so the OpenAPI document cannot drift from the router.
func (s *Server) routes() []op {
	ops := []op{
		// Auth
		{Method: "POST", Path: "/api/v1/auth/login", ID: "login", Summary: "Sign in (sets a session cookie)", Tag: "Auth", Body: LoginRequest{}, Resp: LoginResponse{}, Public: true, H: s.login},
		{Method: "POST", Path: "/api/v1/auth/logout", ID: "logout", Summary: "Sign out", Tag: "Auth", Status: http.StatusNoContent, Public: true, H: s.logout},
		{Method: "GET", Path: "/api/v1/me", ID: "getMe", Summary: "The signed-in user", Tag: "Auth", Resp: platform.User{}, H: s.me},
		{Method: "POST", Path: "/api/v1/me/totp", ID: "beginTOTP", Summary: "Start two-factor set-up", Tag: "Auth", Resp: TOTPSetup{}, H: s.beginTOTP},
		{Method: "POST", Path: "/api/v1/me/totp/enable", ID: "enableTOTP", Summary: "Confirm two-factor set-up with a code", Tag: "Auth", Body: CodeRequest{}, Status: http.StatusNoContent, H: s.enableTOTP},
		{Method: "PUT", Path: "/api/v1/me/password", ID: "setMyPassword", Summary: "Change my password", Tag: "Auth", Body: PasswordRequest{}, Status: http.StatusNoContent, H: s.setMyPassword},

		// Contacts
		{Method: "GET", Path: "/api/v1/contacts", ID: "listContacts", Summary: "List contacts", Tag: "Contacts", Resp: crm.Page[crm.Contact]{}, Query: contactQ, H: s.listContacts},
		{Method: "POST", Path: "/api/v1/contacts", ID: "createContact", Summary: "Create a contact", Tag: "Contacts", Body: crm.ContactInput{}, Resp: crm.Contact{}, Status: http.StatusCreated, Idempotent: true, H: s.createContact},
		{Method: "GET", Path: "/api/v1/contacts/{id}", ID: "getContact", Summary: "Get a contact", Tag: "Contacts", Resp: crm.Contact{}, H: s.getContact},
		{Method: "PATCH", Path: "/api/v1/contacts/{id}", ID: "updateContact", Summary: "Update a contact", Tag: "Contacts", Body: crm.ContactInput{}, Resp: crm.Contact{}, H: s.updateContact},
		{Method: "DELETE", Path: "/api/v1/contacts/{id}", ID: "deleteContact", Summary: "Delete a contact", Tag: "Contacts", Status: http.StatusNoContent, H: s.deleteContact},
		{Method: "GET", Path: "/api/v1/contacts/{id}/timeline", ID: "contactTimeline", Summary: "A contact's timeline, newest first", Tag: "Contacts", Resp: TimelinePage{}, Query: timelineQ, H: s.timeline("contact")},
		{Method: "GET", Path: "/api/v1/contacts/{id}/lifecycle", ID: "contactLifecycle", Summary: "A contact's lifecycle history", Tag: "Contacts", Resp: []platform.LifecycleChange{}, H: s.lifecycle},

		// Companies
		{Method: "GET", Path: "/api/v1/companies", ID: "listCompanies", Summary: "List companies", Tag: "Companies", Resp: crm.Page[crm.Company]{}, Query: companyQ, H: s.listCompanies},
		{Method: "POST", Path: "/api/v1/companies", ID: "createCompany", Summary: "Create a company", Tag: "Companies", Body: crm.CompanyInput{}, Resp: crm.Company{}, Status: http.StatusCreated, Idempotent: true, H: s.createCompany},
		{Method: "GET", Path: "/api/v1/companies/{id}", ID: "getCompany", Summary: "Get a company", Tag: "Companies", Resp: crm.Company{}, H: s.getCompany},
		{Method: "PATCH", Path: "/api/v1/companies/{id}", ID: "updateCompany", Summary: "Update a company", Tag: "Companies", Body: crm.CompanyInput{}, Resp: crm.Company{}, H: s.updateCompany},
		{Method: "DELETE", Path: "/api/v1/companies/{id}", ID: "deleteCompany", Summary: "Delete a company", Tag: "Companies", Status: http.StatusNoContent, H: s.deleteCompany},
		{Method: "GET", Path: "/api/v1/companies/{id}/timeline", ID: "companyTimeline", Summary: "A company's timeline, newest first", Tag: "Companies", Resp: TimelinePage{}, Query: timelineQ, H: s.timeline("company")},

		// Custom properties
		{Method: "GET", Path: "/api/v1/properties", ID: "listProperties", Summary: "List custom property definitions", Tag: "Properties", Resp: []crm.PropertyDefinition{}, Query: propertiesQ, H: s.listProperties},
		{Method: "POST", Path: "/api/v1/properties", ID: "createProperty", Summary: "Define a custom property", Tag: "Properties", Body: PropertyRequest{}, Resp: crm.PropertyDefinition{}, Status: http.StatusCreated, Roles: admin, Idempotent: true, H: s.createProperty},
		{Method: "PATCH", Path: "/api/v1/properties/{id}", ID: "updateProperty", Summary: "Change a custom property's labels or options", Tag: "Properties", Body: PropertyRequest{}, Resp: crm.PropertyDefinition{}, Roles: admin, H: s.updateProperty},
		{Method: "DELETE", Path: "/api/v1/properties/{id}", ID: "deleteProperty", Summary: "Delete a custom property", Tag: "Properties", Status: http.StatusNoContent, Roles: admin, H: s.deleteProperty},

		// Users, teams, tokens
		{Method: "GET", Path: "/api/v1/users", ID: "listUsers", Summary: "List users", Tag: "Users", Resp: []platform.User{}, H: s.listUsers},
		{Method: "POST", Path: "/api/v1/users", ID: "createUser", Summary: "Add a user", Tag: "Users", Body: platform.NewUser{}, Resp: platform.User{}, Status: http.StatusCreated, Roles: admin, Idempotent: true, H: s.createUser},
		{Method: "GET", Path: "/api/v1/users/{id}", ID: "getUser", Summary: "Get a user", Tag: "Users", Resp: platform.User{}, H: s.getUser},
		{Method: "PATCH", Path: "/api/v1/users/{id}", ID: "updateUser", Summary: "Update a user", Tag: "Users", Body: platform.UserPatch{}, Resp: platform.User{}, H: s.updateUser},
		{Method: "GET", Path: "/api/v1/teams", ID: "listTeams", Summary: "List teams", Tag: "Users", Resp: []platform.Team{}, H: s.listTeams},
		{Method: "POST", Path: "/api/v1/teams", ID: "createTeam", Summary: "Create a team", Tag: "Users", Body: platform.NewTeam{}, Resp: platform.Team{}, Status: http.StatusCreated, Roles: admin, Idempotent: true, H: s.createTeam},
		{Method: "PATCH", Path: "/api/v1/teams/{id}", ID: "updateTeam", Summary: "Update a team", Tag: "Users", Body: platform.NewTeam{}, Resp: platform.Team{}, Roles: admin, H: s.updateTeam},
		{Method: "GET", Path: "/api/v1/tokens", ID: "listTokens", Summary: "List my API tokens", Tag: "Users", Resp: []platform.APIToken{}, H: s.listTokens},
		{Method: "POST", Path: "/api/v1/tokens", ID: "createToken", Summary: "Create an API token (its secret is shown once)", Tag: "Users", Body: TokenRequest{}, Resp: TokenResponse{}, Status: http.StatusCreated, H: s.createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", ID: "revokeToken", Summary: "Revoke an API token", Tag: "Users", Status: http.StatusNoContent, H: s.revokeToken},

		// Workspace
		{Method: "GET", Path: "/api/v1/workspace", ID: "getWorkspace", Summary: "Workspace settings", Tag: "Workspace", Resp: platform.Workspace{}, H: s.getWorkspace},
		{Method: "PATCH", Path: "/api/v1/workspace", ID: "updateWorkspace", Summary: "Change workspace settings", Tag: "Workspace", Body: platform.WorkspacePatch{}, Resp: platform.Workspace{}, Roles: admin, H: s.updateWorkspace},
		{Method: "GET", Path: "/api/v1/exchange-rates", ID: "listExchangeRates", Summary: "List exchange rates to the base currency", Tag: "Workspace", Resp: []platform.ExchangeRate{}, H: s.listRates},
		{Method: "PUT", Path: "/api/v1/exchange-rates", ID: "setExchangeRate", Summary: "Set an exchange rate", Tag: "Workspace", Body: platform.ExchangeRate{}, Resp: platform.ExchangeRate{}, Roles: adminOrMgr, H: s.setRate},
		{Method: "GET", Path: "/api/v1/retention", ID: "getRetention", Summary: "How long raw events are kept (0: for ever); older ones are rolled up per day, kind and channel, then deleted", Tag: "Workspace", Resp: Retention{}, H: s.getRetention},
		{Method: "PUT", Path: "/api/v1/retention", ID: "setRetention", Summary: "Set how long raw events are kept", Tag: "Workspace", Body: Retention{}, Resp: Retention{}, Roles: admin, H: s.setRetention},
		{Method: "GET", Path: "/api/v1/channels", ID: "listChannels", Summary: "The channel taxonomy", Tag: "Workspace", Resp: []platform.Channel{}, H: s.listChannels},
		{Method: "GET", Path: "/api/v1/audit", ID: "listAudit", Summary: "The audit log, newest first", Tag: "Workspace", Resp: AuditPage{}, Roles: admin,
			Query: []param{{"object_type", "string", "e.g. contact"}, {"object_id", "integer", "record id"}, {"actor_id", "integer", "user id"}, {"cursor", "string", "next_cursor from the previous page"}, {"limit", "integer", "page size"}}, H: s.listAudit},
	}
	ops = append(ops, s.moreRoutes()...)
	return ops
}
