package api

// moreRoutes gathers the route lists of later capabilities, each declared in
// its own file beside its handlers.
func (s *Server) moreRoutes() []op {
	var ops []op
	ops = append(ops, s.salesRoutes()...)
	ops = append(ops, s.eventRoutes()...)
	ops = append(ops, s.notifyRoutes()...)
	ops = append(ops, s.leadRoutes()...)
	return ops
}
