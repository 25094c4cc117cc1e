package web

// settingsRoutes registers the settings screens (users, teams, pipelines,
// custom properties, workspace, API tokens, notification channels, audit log).
func (s *Server) settingsRoutes() {}
