package api

// moreRoutes gathers the route lists of later capabilities, each declared in
// its own file beside its handlers.
func (s *Server) moreRoutes() []op {
	var ops []op
	ops = append(ops, s.salesRoutes()...)
	ops = append(ops, s.eventRoutes()...)
	ops = append(ops, s.notifyRoutes()...)
	ops = append(ops, s.leadRoutes()...)
	ops = append(ops, s.privacyRoutes()...)
	ops = append(ops, s.webhookRoutes()...)
	ops = append(ops, s.guideRoutes()...)
	ops = append(ops, s.dedupeRoutes()...)
	ops = append(ops, s.competitorRoutes()...)
	ops = append(ops, s.kpiRoutes()...)
	ops = append(ops, s.socialRoutes()...)
	ops = append(ops, s.formRoutes()...)
	ops = append(ops, s.trackingRoutes()...)
	ops = append(ops, s.importRoutes()...)
	ops = append(ops, s.salesDayRoutes()...)
	ops = append(ops, s.segmentRoutes()...)
	ops = append(ops, s.emailRoutes()...)
	ops = append(ops, s.campaignRoutes()...)
	ops = append(ops, s.quoteRoutes()...)
	ops = append(ops, s.journeyRoutes()...)
	ops = append(ops, s.afterSaleRoutes()...)
	ops = append(ops, s.salesMailRoutes()...)
	ops = append(ops, s.quoteMailRoutes()...)
	ops = append(ops, s.sequenceRoutes()...)
	return ops
}
