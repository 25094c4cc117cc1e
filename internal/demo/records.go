package demo

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead"
	"github.com/ryorin/ryorin/internal/platform"
)

type company struct {
	id        int64
	name      string
	short     string
	domain    string
	en        bool
	employees int64
	plan      string // the plan it is on (or would buy)
	owner     *demoUser
	created   time.Time
	existing  bool // a customer from before the history began
	contacts  []*contact
	customers []*contact // contacts that are customers (for renewals)
}

type contact struct {
	id         int64
	co         *company
	en         bool
	family     string
	given      string
	email      string
	channel    string
	consent    string
	created    time.Time
	owner      *demoUser
	senior     bool
	customer   bool      // created as a customer (existing accounts)
	subscriber bool      // created as a newsletter subscriber
	custAt     time.Time // when they became a customer; zero if not (yet)
	dealAt     time.Time // when the first deal naming them was created; zero if none
	dealLost   time.Time // when that deal was lost; zero otherwise
	visitorID  string
}

type deal struct {
	id       int64
	co       *company
	contacts []*contact
	more     bool // upsell/renewal pipeline
	created  time.Time
	moves    []move
	won      bool
	lost     bool
	closed   time.Time
}

// move is one stage change of a deal.
type move struct {
	at    time.Time
	stage crm.PipelineStage
}

// corporateNumber prefixes a 12-digit base with its check digit (see
// crm.ValidCorporateNumber).
func corporateNumber(base string) string {
	sum := 0
	for i := 1; i <= 12; i++ {
		q := 1
		if i%2 == 0 {
			q = 2
		}
		sum += int(base[12-i]-'0') * q
	}
	return strconv.Itoa(9-sum%9) + base
}

func (l *loader) uniqueEmail(local, domain string) string {
	e := local + "@" + domain
	for i := 2; l.emails[e]; i++ {
		e = fmt.Sprintf("%s%d@%s", local, i, domain)
	}
	l.emails[e] = true
	return e
}

func (l *loader) uniqueDomain(slug string) string {
	d := slug + ".example"
	for i := 2; l.domains[d]; i++ {
		d = fmt.Sprintf("%s%d.example", slug, i)
	}
	l.domains[d] = true
	return d
}

// planCompanies queues the companies and their contacts.
func (l *loader) planCompanies() error {
	nCompanies := l.n(300)
	names := map[string]bool{}
	corp := map[string]bool{}
	industryWeights := make([]int, len(industries))
	for i, ind := range industries {
		industryWeights[i] = ind.weight
	}
	prefWeights := make([]int, len(prefectures))
	for i, p := range prefectures {
		prefWeights[i] = p.weight
	}
	var totalWeight float64
	for i := range nCompanies {
		c := &company{en: l.chance(0.15)}
		ind := industries[l.weighted(industryWeights)]
		switch r := l.rng.Float64(); {
		case r < 0.30:
			c.employees = int64(l.intn(8, 49))
		case r < 0.65:
			c.employees = int64(l.intn(50, 299))
		case r < 0.85:
			c.employees = int64(l.intn(300, 999))
		case r < 0.97:
			c.employees = int64(l.intn(1000, 4999))
		default:
			c.employees = int64(l.intn(5000, 30000))
		}
		switch {
		case c.employees < 100:
			c.plan = "starter"
		case c.employees < 1000:
			c.plan = "standard"
		default:
			c.plan = "enterprise"
		}
		revenue := c.employees * int64(l.intn(15, 45)) * 1_000_000
		in := crm.CompanyInput{Industry: ptr(ind.ja), Employees: ptr(c.employees), AnnualRevenue: ptr(revenue)}
		if c.en {
			place := pick(l.rng, enPlaces)
			var name string
			for {
				name = pick(l.rng, enCompanyStems) + " " + pick(l.rng, ind.enSuffix)
				if !names[name] {
					break
				}
			}
			names[name] = true
			c.short = name
			c.name = name + " " + enLegal[place.country]
			c.domain = l.uniqueDomain(strings.ToLower(strings.ReplaceAll(name, " ", "-")))
			in.Industry = ptr(ind.en)
			in.Phone = ptr(place.phone(l.rng.IntN(10000)))
			in.Address = &crm.Address{PostalCode: place.postal, Prefecture: place.state, City: place.city,
				Line1: fmt.Sprintf("%d %s", l.intn(10, 990), place.street), Line2: fmt.Sprintf("Suite %d", l.intn(2, 40)*100), Country: place.country}
			c.owner = l.user("fs2")
		} else {
			var stem, suffix word
			for {
				stem, suffix = pick(l.rng, companyStems), pick(l.rng, ind.suffixes)
				if !names[stem.ja+suffix.ja] {
					break
				}
			}
			names[stem.ja+suffix.ja] = true
			c.short = stem.ja + suffix.ja
			if l.chance(0.7) {
				c.name = "株式会社" + c.short
			} else {
				c.name = c.short + "株式会社"
			}
			in.NameKana = ptr(stem.kana + suffix.kana)
			c.domain = l.uniqueDomain(stem.roman + "-" + suffix.roman)
			p := prefectures[l.weighted(prefWeights)]
			ct := pick(l.rng, p.cities)
			addr := &crm.Address{PostalCode: ct.postal, Prefecture: p.name, City: ct.name,
				Line1: fmt.Sprintf("%s%d丁目%d-%d", ct.town, l.intn(1, 5), l.intn(1, 20), l.intn(1, 30))}
			if l.chance(0.6) {
				addr.Line2 = fmt.Sprintf("%s%s %dF", stem.ja, pick(l.rng, buildings), l.intn(2, 30))
			}
			in.Address = addr
			if len(p.area) == 2 {
				in.Phone = ptr(fmt.Sprintf("%s-%04d-%04d", p.area, l.intn(3000, 6999), l.rng.IntN(10000)))
			} else {
				in.Phone = ptr(fmt.Sprintf("%s-%03d-%04d", p.area, l.intn(200, 999), l.rng.IntN(10000)))
			}
			var number string
			for number == "" || corp[number] {
				number = corporateNumber(fmt.Sprintf("%s01%06d", p.office, l.rng.IntN(1_000_000)))
			}
			corp[number] = true
			in.CorporateNumber = ptr(number)
			switch {
			case c.employees >= 300 && l.chance(0.25):
				c.owner = l.user("fs_mgr")
			case c.employees >= 300:
				c.owner = l.user("fs1")
			case i%2 == 0:
				c.owner = l.user("is1")
			default:
				c.owner = l.user("is2")
			}
		}
		in.Name = ptr(c.name)
		in.Domain = ptr(c.domain)
		in.Website = ptr("https://www." + c.domain + "/")
		in.OwnerID = ptr(c.owner.u.ID)
		c.existing = l.chance(0.12)
		if c.existing {
			c.created = l.start.Add(time.Duration(l.intn(60, 180)) * time.Minute)
			in.Props = map[string]any{"plan": c.plan}
		} else {
			c.created = l.growthTime(l.start.Add(24 * time.Hour))
		}
		actor := c.owner.actor()
		if c.existing {
			actor = platform.CLI(ws) // imported from the old CRM on the first day
		}
		l.at(c.created, "create company", func() error {
			got, err := l.crm.CreateCompany(l.ctx, actor, in)
			c.id = got.ID
			return err
		})
		l.companies = append(l.companies, c)
		totalWeight += companyWeight(c)
	}
	// Contacts, spread over the companies by size; a few newsletter
	// subscribers belong to no company.
	nContacts := l.n(2000)
	for _, c := range l.companies {
		share := int(math.Round(companyWeight(c) / totalWeight * float64(nContacts) * 0.93))
		for k := range max(share, 1) {
			l.planContact(c, k)
		}
	}
	for len(l.contacts) < nContacts {
		l.planContact(nil, 0)
	}
	return nil
}

func companyWeight(c *company) float64 { return 1 + math.Log10(float64(c.employees)) }

// planContact queues one contact of company c (nil: no company); k is its
// position among the company's contacts.
func (l *loader) planContact(c *company, k int) {
	p := &contact{co: c, consent: "unknown"}
	in := crm.ContactInput{}
	channelWeights := make([]int, len(channelMixes))
	for i, m := range channelMixes {
		channelWeights[i] = m.weight
	}
	mix := channelMixes[l.weighted(channelWeights)]
	domain := "mail.example"
	if c != nil {
		domain = c.domain
		p.en = c.en
		p.owner = c.owner
	} else {
		p.en = l.chance(0.1)
		mix = channelMixes[0]
		if l.chance(0.5) {
			mix = channelMixes[3]
		}
		p.owner = l.user("is1")
		if len(l.contacts)%2 == 1 {
			p.owner = l.user("is2")
		}
	}
	p.channel = mix.key
	if p.en {
		first, last := pick(l.rng, enFirstNames), pick(l.rng, enLastNames)
		p.family, p.given = last, first
		p.email = l.uniqueEmail(strings.ToLower(first+"."+last), domain)
		t := enTitles[l.weightedTitle(enTitles)]
		p.senior = t.senior
		in.Title, in.Department = ptr(t.title), ptr(t.dept)
		in.OriginalSource = ptr(pick(l.rng, mix.sourcesEN))
		if c != nil {
			in.Phone = ptr(fmt.Sprintf("+1 415-555-01%02d", l.rng.IntN(100)))
		}
	} else {
		fam, giv := pick(l.rng, familyNames), pick(l.rng, givenNames)
		p.family, p.given = fam.ja, giv.ja
		in.FamilyNameKana, in.GivenNameKana = ptr(fam.kana), ptr(giv.kana)
		local := giv.roman + "." + fam.roman
		if l.chance(0.3) {
			local = string(giv.roman[0]) + "-" + fam.roman
		}
		p.email = l.uniqueEmail(local, domain)
		t := jaTitles[l.weightedTitle(jaTitles)]
		p.senior = t.senior
		if c != nil {
			in.Title, in.Department = ptr(t.title), ptr(t.dept)
			in.Phone = ptr(fmt.Sprintf("03-%04d-%04d", l.intn(3000, 6999), l.rng.IntN(10000)))
		}
		if l.chance(0.5) {
			in.Mobile = ptr(fmt.Sprintf("0%d0-%04d-%04d", l.intn(7, 9), l.rng.IntN(10000), l.rng.IntN(10000)))
		}
		in.OriginalSource = ptr(pick(l.rng, mix.sourcesJA))
	}
	in.Email, in.FamilyName, in.GivenName = ptr(p.email), ptr(p.family), ptr(p.given)
	in.OriginalChannel = ptr(mix.key)
	in.OwnerID = ptr(p.owner.u.ID)
	if c != nil {
		in.CompanyID = new(int64) // filled when the company exists
	}
	switch r := l.rng.Float64(); {
	case r < 0.45:
		p.consent = "granted"
		in.ConsentEmail, in.ConsentSource = ptr("granted"), ptr(map[bool]string{true: "form opt-in", false: "フォームでの同意"}[p.en])
	case r < 0.55:
		p.consent = "revoked" // granted first, revoked later
		in.ConsentEmail, in.ConsentSource = ptr("granted"), ptr(map[bool]string{true: "form opt-in", false: "フォームでの同意"}[p.en])
	}
	props := map[string]any{}
	if l.chance(0.35) {
		var interest []any
		for _, v := range []string{"ma", "sfa", "inside_sales", "analytics", "api"} {
			if l.chance(0.35) {
				interest = append(interest, v)
			}
		}
		if len(interest) > 0 {
			props["product_interest"] = interest
		}
	}
	if p.senior && l.chance(0.5) {
		props["budget"] = float64(l.intn(6, 120) * 100_000)
	}
	if len(props) > 0 {
		in.Props = props
	}
	switch {
	case c != nil && c.existing && (k == 0 || l.chance(0.55)):
		p.customer = true
		p.created = c.created.Add(time.Duration(k+1) * time.Minute)
		p.custAt = p.created
		in.LifecycleStage = ptr(platform.StageCustomer)
		c.customers = append(c.customers, p)
	case c != nil && k == 0 && !c.existing:
		p.created = c.created.Add(time.Duration(l.intn(1, 30)) * time.Minute)
	case c != nil:
		from := c.created.Add(time.Hour)
		p.created = l.workTime(from, from.Add(time.Duration(math.Pow(l.rng.Float64(), 1.2)*float64(l.end.Sub(from)))+time.Hour))
	default:
		p.created = l.growthTime(l.start)
	}
	if !p.customer && (c == nil || mix.key == "email") {
		p.subscriber = true
		in.LifecycleStage = ptr(platform.StageSubscriber)
	}
	if c != nil {
		c.contacts = append(c.contacts, p)
	}
	l.contacts = append(l.contacts, p)
	actor := l.sys // web forms and imports
	switch {
	case p.customer:
		actor = platform.CLI(ws)
	case mix.key == "events_offline" || mix.key == "other":
		actor = p.owner.actor() // a rep typed in the business card
	}
	l.at(p.created, "create contact", func() error {
		if c != nil {
			*in.CompanyID = c.id
		}
		got, err := l.crm.CreateContact(l.ctx, actor, in)
		p.id = got.ID
		return err
	})
}

func (l *loader) weightedTitle(ts []titled) int {
	w := make([]int, len(ts))
	for i, t := range ts {
		w[i] = t.weight
	}
	return l.weighted(w)
}

// stagesOf splits a pipeline's stages into open ones (in order), won and lost.
func stagesOf(p crm.Pipeline) (open []crm.PipelineStage, won, lost crm.PipelineStage) {
	for _, s := range p.Stages {
		switch s.Kind {
		case "won":
			won = s
		case "lost":
			lost = s
		default:
			open = append(open, s)
		}
	}
	return open, won, lost
}

// planDeals queues new-business deals in the default pipeline and
// upsell/renewal deals in the second one.
func (l *loader) planDeals() error {
	open, won, lost := stagesOf(l.newPipeline)
	if len(open) == 0 || won.ID == 0 || lost.ID == 0 {
		return fmt.Errorf("pipeline %q needs open, won and lost stages", l.newPipeline.Name)
	}
	var prospects []*company
	for _, c := range l.companies {
		if !c.existing {
			prospects = append(prospects, c)
		}
	}
	nNew := l.n(300)
	planned := 0
	for try := 0; planned < nNew && try < 4*nNew && len(prospects) > 0; try++ {
		c := prospects[l.rng.IntN(len(prospects))]
		var free []*contact
		for _, p := range c.contacts {
			if p.dealAt.IsZero() {
				free = append(free, p)
			}
		}
		if len(free) == 0 {
			continue
		}
		// Deals start with the company's first contacts, so closed deals
		// spread over the whole history.
		sort.SliceStable(free, func(a, b int) bool { return free[a].created.Before(free[b].created) })
		n := min(len(free), 1+l.rng.IntN(2))
		d := l.planDeal(c, free[:n], false, open, won, lost, l.outcome(planned, len(open), []int{25, 27, 14, 13, 12, 9}))
		if d == nil {
			continue
		}
		planned++
		for _, p := range d.contacts {
			p.dealAt = d.created
			if d.lost {
				p.dealLost = d.closed
			}
		}
	}
	// Upsells and renewals for customers: existing ones and new wins.
	mOpen, mWon, mLost := stagesOf(l.morePipeline)
	var customers []*company
	for _, c := range l.companies {
		if len(c.customers) > 0 {
			customers = append(customers, c)
		}
	}
	nMore := l.n(100)
	planned = 0
	for try := 0; planned < nMore && try < 4*nMore && len(customers) > 0; try++ {
		c := customers[l.rng.IntN(len(customers))]
		k := l.outcome(planned, len(mOpen), []int{30, 15, 20, 20, 15})
		if l.planDeal(c, c.customers[:min(len(c.customers), 1+l.rng.IntN(2))], true, mOpen, mWon, mLost, k) != nil {
			planned++
		}
	}
	return nil
}

// outcome picks a deal's final stage: an index into the open stages, -1 for
// won, -2 for lost. The first deals cover every stage, so even a small data
// set shows each one; the rest follow weights (won, lost, then open stages).
func (l *loader) outcome(i, nOpen int, weights []int) int {
	switch {
	case i == 0:
		return -1
	case i == 1:
		return -2
	case i < nOpen+2:
		return i - 2
	}
	k := l.weighted(weights)
	if k < 2 {
		return -1 - k
	}
	return min(k-2, nOpen-1)
}

// planDeal queues one deal and its history. k is the final open stage index,
// -1 for won, -2 for lost. It returns nil when the contacts are too new.
func (l *loader) planDeal(c *company, people []*contact, more bool, open []crm.PipelineStage, won, lost crm.PipelineStage, k int) *deal {
	d := &deal{co: c, contacts: people, more: more}
	earliest := l.start.Add(days(3))
	for _, p := range people {
		earliest = maxTime(earliest, p.created.Add(days(1+l.rng.Float64()*10)))
	}
	if more {
		for _, p := range people {
			earliest = maxTime(earliest, p.custAt.Add(days(20)))
		}
	}
	// The path of stages after the first.
	var path []crm.PipelineStage
	switch {
	case k >= 0:
		path = open[1 : k+1]
	case k == -1:
		for i := 1; i < len(open); i++ {
			if i == len(open)-1 || l.chance(0.85) {
				path = append(path, open[i])
			}
		}
		path = append(path, won)
	default:
		path = append(append(path, open[1:1+l.rng.IntN(len(open))]...), lost)
	}
	gaps := make([]time.Duration, len(path))
	var total time.Duration
	for i := range gaps {
		gaps[i] = days(3 + l.rng.Float64()*18)
		total += gaps[i]
	}
	latest := l.end.Add(-total - 2*time.Hour)
	if latest.Before(earliest) {
		room := l.end.Add(-2 * time.Hour).Sub(earliest)
		if room < days(1) {
			return nil
		}
		f := float64(room) / float64(total) * 0.9
		total = 0
		for i := range gaps {
			gaps[i] = time.Duration(float64(gaps[i]) * f)
			total += gaps[i]
		}
		latest = earliest
	}
	if k >= 0 && latest.Sub(earliest) > days(45) {
		earliest = latest.Add(-days(45)) // open deals moved recently
	}
	d.created = l.workTime(earliest, latest.Add(days(1)))
	t := d.created
	for i, s := range path {
		next := l.workTime(t.Add(gaps[i]), t.Add(gaps[i]+days(1)))
		if next.After(l.end) {
			break // not happened yet: the deal is still open where it got to
		}
		t = next
		d.moves = append(d.moves, move{at: t, stage: s})
	}
	complete := len(d.moves) == len(path)
	d.won, d.lost = k == -1 && complete, k == -2 && complete
	if d.won || d.lost {
		d.closed = t
	}
	l.deals = append(l.deals, d)
	l.queueDeal(d, open[0])
	return d
}

var planPrice = map[string][2]float64{"starter": {50_000, 400}, "standard": {150_000, 1_200}, "enterprise": {450_000, 3_500}}

func (l *loader) queueDeal(d *deal, first crm.PipelineStage) {
	c := d.co
	owner := c.owner
	actor := owner.actor()
	cur := "JPY"
	price := planPrice[c.plan][0]
	if c.en {
		cur, price = "USD", planPrice[c.plan][1]
	}
	if c.plan == "enterprise" {
		price *= 1 + float64(l.rng.IntN(6))*0.25
	}
	in := crm.DealInput{PipelineID: ptr(l.newPipeline.ID), StageID: ptr(first.ID), OwnerID: ptr(owner.u.ID), Currency: ptr(cur),
		TermMonths: ptr(12)}
	var name string
	switch {
	case !d.more:
		in.Type = ptr("new")
		in.RecurringAmount, in.RecurringInterval = ptr(price), ptr("month")
		setup := map[string]float64{"starter": 0, "standard": 200_000, "enterprise": 500_000}[c.plan]
		if c.en {
			setup /= 125
		}
		in.Amount = ptr(price*12 + setup)
		name = c.short + " - Ryorin Cloud 導入"
		if c.en {
			name = c.short + " - Ryorin Cloud rollout"
		}
	case l.chance(0.5):
		in.Type = ptr("upsell")
		extra := math.Round(price * (0.2 + l.rng.Float64()*0.3))
		in.RecurringAmount, in.RecurringInterval = ptr(extra), ptr("month")
		in.Amount = ptr(extra * 12)
		name = c.short + " - " + pick(l.rng, []string{"MAオプション追加", "ユーザー追加", "インサイドセールス機能追加"})
		if c.en {
			name = c.short + " - seat expansion"
		}
	default:
		in.Type = ptr("renewal")
		in.RecurringAmount, in.RecurringInterval = ptr(price*12), ptr("year")
		in.Amount = ptr(price * 12)
		name = c.short + " - 年間契約更新"
		if c.en {
			name = c.short + " - annual renewal"
		}
	}
	if d.more {
		in.PipelineID = ptr(l.morePipeline.ID)
	}
	in.Name = ptr(name)
	closeBy := d.created.Add(days(30 + l.rng.Float64()*60))
	if len(d.moves) > 0 {
		closeBy = maxTime(closeBy, d.moves[len(d.moves)-1].at.Add(days(7+l.rng.Float64()*30)))
	}
	in.CloseDate = ptr(closeBy.In(l.jst).Format(time.DateOnly))
	if l.chance(0.5) {
		in.Props = map[string]any{"decision_date": closeBy.Add(-days(7)).In(l.jst).Format(time.DateOnly)}
	}
	roles := []string{"decision_maker", "champion", "influencer", "user"}
	if !d.contacts[0].senior {
		roles = []string{"champion", "influencer", "user"}
	}
	if !d.more && l.chance(0.45) {
		ids := []int64{}
		for range 1 + l.rng.IntN(2) {
			ids = append(ids, pick(l.rng, l.competitors))
		}
		in.CompetitorIDs = &ids
	}
	l.at(d.created, "create deal", func() error {
		var links []crm.DealContact
		for i, p := range d.contacts {
			links = append(links, crm.DealContact{ContactID: p.id, Role: roles[min(i, len(roles)-1)]})
		}
		in.CompanyID, in.Contacts = ptr(c.id), &links
		got, err := l.crm.CreateDeal(l.ctx, actor, in)
		d.id = got.ID
		return err
	})
	lead := d.contacts[0]
	ja := !c.en
	prev := d.created
	for i, m := range d.moves {
		// Work between stage changes: calls, emails, meetings on the deal.
		for range l.rng.IntN(2) + 1 {
			at := l.workTime(prev, m.at)
			kind := pick(l.rng, []string{"call", "email", "meeting", "email", "call"})
			l.queueActivity(at, actor, kind, lead, d, "", ja)
		}
		prev = m.at
		upd := crm.DealInput{StageID: ptr(m.stage.ID)}
		switch {
		case m.stage.Kind == "lost":
			upd.LostReason = ptr(pick(l.rng, lostReasons))
		case m.stage.Kind == "won" && in.Amount != nil && l.chance(0.4):
			upd.Amount = ptr(math.Round(*in.Amount * (0.85 + l.rng.Float64()*0.1)))
		}
		l.at(m.at, "move deal", func() error {
			_, err := l.crm.UpdateDeal(l.ctx, actor, d.id, upd)
			return err
		})
		switch {
		case m.stage.Kind == "won":
			l.queueActivity(m.at.Add(10*time.Minute), actor, "note", lead, d, map[bool]string{true: "受注。キックオフは来週の予定。", false: "Closed won. Kick-off next week."}[ja], ja)
			if !d.more {
				l.at(m.at.Add(30*time.Minute), "company plan", func() error {
					_, err := l.crm.UpdateCompany(l.ctx, actor, c.id, crm.CompanyInput{Props: map[string]any{"plan": c.plan}})
					return err
				})
				for _, p := range d.contacts {
					p.custAt = d.closed
				}
				c.customers = append(c.customers, d.contacts...)
			}
		case m.stage.Kind == "lost":
			l.queueActivity(m.at.Add(10*time.Minute), actor, "note", lead, d, map[bool]string{true: "失注。半年後に再アプローチ予定。", false: "Closed lost. Revisit in six months."}[ja], ja)
		case i == 0 && !d.more:
			l.queueActivity(m.at.Add(-2*time.Hour), actor, "demo", lead, d, "", ja)
		default:
			l.queueActivity(m.at.Add(-3*time.Hour), actor, "meeting", lead, d, "", ja)
		}
	}
	if !d.won && !d.lost {
		// Open deals have a next step: overdue, due today or coming up.
		l.queueTask(actor, lead, d, ja)
	}
}

// planContacts queues each contact's lifecycle changes and the inside-sales
// and marketing work on them.
func (l *loader) planContacts() error {
	for _, p := range l.contacts {
		if p.customer {
			if l.chance(0.3) {
				l.queueActivity(l.workTime(maxTime(p.created, l.end.Add(-days(120))), l.end), p.owner.actor(), "meeting", p, nil,
					map[bool]string{true: "定例ミーティング。活用状況は良好。", false: "Quarterly business review."}[!p.en], !p.en)
			}
			continue
		}
		l.planLifecycle(p)
		if p.consent == "revoked" {
			at := l.between(p.created.Add(days(3)), l.end)
			l.at(at, "revoke consent", func() error {
				_, err := l.crm.UpdateContact(l.ctx, l.sys, p.id, crm.ContactInput{ConsentEmail: ptr("revoked"),
					ConsentSource: ptr("配信停止リンク")}, platform.Cause{})
				return err
			})
		}
	}
	return nil
}

// planLifecycle moves a contact through the funnel at believable dates and
// queues the calls, emails, notes and tasks that go with it.
func (l *loader) planLifecycle(p *contact) {
	caller := l.user("is1")
	if len(p.email)%2 == 1 {
		caller = l.user("is2")
	}
	if p.en {
		caller = l.user("fs2")
	}
	ja := !p.en
	until := l.end
	if !p.dealAt.IsZero() {
		until = p.dealAt.Add(-time.Hour)
	}
	var path []platform.Stage
	if !p.dealAt.IsZero() {
		path = []platform.Stage{platform.StageMQL, platform.StageSQL}
	} else if p.co == nil {
		if l.chance(0.15) {
			path = []platform.Stage{platform.StageLead}
		}
	} else {
		switch r := l.rng.Float64(); {
		case r < 0.40:
			// stays a lead
		case r < 0.63:
			path = []platform.Stage{platform.StageMQL}
		case r < 0.75:
			path = []platform.Stage{platform.StageMQL, platform.StageSQL}
		case r < 0.88:
			path = []platform.Stage{platform.StageDisqualified}
			if l.chance(0.5) {
				path = []platform.Stage{platform.StageMQL, platform.StageDisqualified}
			}
		default:
			path = []platform.Stage{platform.StageMQL, platform.StageRecycled}
			if l.chance(0.4) {
				path = []platform.Stage{platform.StageMQL, platform.StageSQL, platform.StageRecycled}
			}
		}
	}
	if p.subscriber && p.co != nil && (len(path) > 0 || !p.dealAt.IsZero() || l.chance(0.4)) {
		path = append([]platform.Stage{platform.StageLead}, path...)
	}
	t := p.created
	span := until.Sub(p.created)
	if span < 2*time.Hour {
		path = nil
	}
	for i, s := range path {
		next := p.created.Add(time.Duration(float64(span) * (0.2 + 0.3*float64(i) + l.rng.Float64()*0.15)))
		if !next.Before(until) || !next.After(t) {
			break
		}
		t = next
		stage := s
		actor, cause := caller.actor(), platform.Cause{Kind: "user"}
		switch stage {
		case platform.StageMQL:
			actor, cause = l.sys, platform.Cause{Kind: "rule", Ref: "リードスコア 60点以上"}
		case platform.StageRecycled:
			cause = platform.Cause{Kind: "user", Ref: "時期尚早のためナーチャリングへ"}
		case platform.StageDisqualified:
			cause = platform.Cause{Kind: "user", Ref: pick(l.rng, []string{"競合他社", "学生・個人", "対象外の業種"})}
		}
		// Calls before a rep's step: inside sales works the lead. The
		// marketing-scored MQL step mostly comes without one.
		from := p.created
		if i > 0 {
			from = t.Add(-days(5))
		}
		calls := l.rng.IntN(2) + 1
		if stage == platform.StageMQL || stage == platform.StageLead {
			calls = btoi(l.chance(0.25))
		}
		for j := range calls {
			at := l.workTime(maxTime(from, p.created), t)
			if j == calls-1 && stage == platform.StageSQL {
				// Never before the contact exists (a short span since creation).
				at = maxTime(t.Add(-time.Duration(l.intn(10, 120))*time.Minute), p.created.Add(time.Minute))
			}
			l.queueCall(at, caller, p, ja, j == calls-1 && stage == platform.StageSQL)
		}
		prev := platform.StageLead
		if i > 0 {
			prev = path[i-1]
		}
		l.at(t, "lifecycle "+string(stage), func() error {
			// Sales' verdict on an MQL is feedback (accept, or reject with
			// a reason), as a rep would give it on the contact's page.
			if prev == platform.StageMQL && stage != platform.StageMQL {
				in := lead.FeedbackInput{Decision: "accept", Rating: l.intn(3, 5)}
				switch stage {
				case platform.StageRecycled:
					in = lead.FeedbackInput{Decision: "reject", Reason: pick(l.rng, []string{"not_decision_maker", "no_budget", "bad_timing", "competitor_customer"}),
						Note: cause.Ref, Rating: l.intn(1, 3)}
				case platform.StageDisqualified:
					in = lead.FeedbackInput{Decision: "reject", Reason: pick(l.rng, []string{"bad_data", "not_a_fit"}), Note: cause.Ref, Rating: 1}
				}
				_, err := l.lead.GiveFeedback(l.ctx, l.crm, actor, p.id, in)
				if !errs.Is(err, errs.Unprocessable) {
					return err
				} // already moved on (e.g. a deal came first): record the stage only
			}
			_, err := l.crm.UpdateContact(l.ctx, actor, p.id, crm.ContactInput{LifecycleStage: &stage}, cause)
			return err
		})
		// Inside sales mostly calls a new MQL soon after the hand-off: most
		// within the hour, some that day, a few days later, some never.
		if stage == platform.StageMQL && l.chance(0.8) {
			var wait time.Duration
			switch r := l.rng.Float64(); {
			case r < 0.6:
				wait = time.Duration(l.intn(5, 55)) * time.Minute
			case r < 0.9:
				wait = time.Duration(l.intn(2, 8)) * time.Hour
			default:
				wait = time.Duration(l.intn(24, 72)) * time.Hour
			}
			if at := l.onDuty(t.Add(wait)); at.Before(until) && at.Before(l.end) {
				l.queueCall(at, caller, p, ja, false)
			}
		}
	}
	// Work on leads that have not moved on yet (or are still in play).
	if len(path) == 0 && p.co != nil && p.dealAt.IsZero() {
		for range l.rng.IntN(3) {
			l.queueCall(l.workTime(p.created, l.end), caller, p, ja, false)
		}
	}
	if p.co != nil && l.chance(0.45) {
		l.queueActivity(l.workTime(p.created, until), p.owner.actor(), "email", p, nil, "", ja)
	}
	if p.co != nil && l.chance(0.15) {
		l.queueActivity(l.workTime(p.created, until), caller.actor(), "note", p, nil, "", ja)
	}
	if p.co != nil && p.dealAt.IsZero() && l.chance(0.08) {
		l.queueTask(caller.actor(), p, nil, ja)
	}
	if !p.dealLost.IsZero() && l.chance(0.4) {
		at := l.workTime(p.dealLost.Add(days(5)), p.dealLost.Add(days(30)))
		if at.Before(l.end) {
			l.at(at, "lifecycle recycled", func() error {
				_, err := l.crm.UpdateContact(l.ctx, caller.actor(), p.id, crm.ContactInput{LifecycleStage: ptr(platform.StageRecycled)},
					platform.Cause{Kind: "user", Ref: "失注後のナーチャリング"})
				return err
			})
		}
	}
}

// queueCall logs an inside-sales call; good is true for the call that
// qualified the lead.
func (l *loader) queueCall(at time.Time, caller *demoUser, p *contact, ja, good bool) {
	w := []int{35, 20, 20, 10, 10, 5}
	outcome := crm.CallOutcomes[l.weighted(w)]
	if good {
		outcome = "appointment"
		if l.chance(0.4) {
			outcome = "connected"
		}
	}
	subject := pick(l.rng, callSubjectsJA[outcome])
	if !ja {
		subject = pick(l.rng, callSubjectsEN[outcome])
	}
	dur := map[string][2]int{"no_answer": {0, 30}, "gatekeeper": {30, 120}, "connected": {180, 900}, "appointment": {300, 1200},
		"voicemail": {20, 60}, "wrong_number": {5, 20}}[outcome]
	in := crm.ActivityInput{Kind: ptr("call"), Subject: ptr(subject), CallOutcome: ptr(outcome), Direction: ptr("outbound"),
		DurationSeconds: ptr(l.intn(dur[0], dur[1])), OccurredAt: ptr(at)}
	if l.chance(0.08) {
		in.Direction = ptr("inbound")
	}
	// Some conversations carry something marketing should hear.
	if (outcome == "connected" || outcome == "appointment") && l.chance(0.3) {
		topic := crm.VoiceTopics[l.weighted([]int{30, 20, 25, 15, 10, 0})]
		voices := voiceJA[topic]
		if !ja {
			voices = voiceEN[topic]
		}
		in.VoiceTopic, in.Body = ptr(topic), ptr(pick(l.rng, voices))
		if l.chance(0.5) {
			in.VoiceCampaign = ptr(pick(l.rng, []string{"crm_hikaku", "ma_tool", "sfa_brand", "nl_" + at.In(l.jst).Format("2006_01")}))
		}
	}
	actor := caller.actor()
	l.at(at, "log call", func() error {
		in.ContactID = ptr(p.id)
		_, err := l.crm.LogActivity(l.ctx, actor, in)
		return err
	})
}

// queueActivity logs an email, meeting, demo or note on a contact (and deal).
func (l *loader) queueActivity(at time.Time, actor platform.Actor, kind string, p *contact, d *deal, body string, ja bool) {
	var subject string
	switch kind {
	case "call":
		l.queueCall(at, l.userByID(actor.UserID), p, ja, false)
		return
	case "email":
		subject = pick(l.rng, emailSubjectsJA)
		if !ja {
			subject = pick(l.rng, emailSubjectsEN)
		}
	case "meeting":
		subject = pick(l.rng, []string{"オンライン商談", "要件ヒアリング", "提案内容のご説明", "価格・契約条件のご相談"})
		if !ja {
			subject = pick(l.rng, []string{"Discovery meeting", "Proposal walkthrough", "Pricing discussion"})
		}
	case "demo":
		subject = map[bool]string{true: "製品デモ（MA・SFA連携）", false: "Product demo"}[ja]
	case "note":
		subject = map[bool]string{true: "メモ", false: "Note"}[ja]
		if body == "" {
			body = pick(l.rng, noteBodiesJA)
			if !ja {
				body = pick(l.rng, noteBodiesEN)
			}
		}
	}
	in := crm.ActivityInput{Kind: ptr(kind), Subject: ptr(subject), Body: ptr(body), OccurredAt: ptr(at)}
	if kind == "meeting" || kind == "demo" {
		in.DurationSeconds = ptr(l.intn(2, 6) * 900)
	}
	if kind == "email" {
		in.Direction = ptr("outbound")
	}
	l.at(at, "log "+kind, func() error {
		in.ContactID = ptr(p.id)
		if d != nil {
			in.DealID = ptr(d.id)
		}
		_, err := l.crm.LogActivity(l.ctx, actor, in)
		return err
	})
}

// queueTask creates a follow-up task: done on time, overdue, due today or
// upcoming, relative to the end of the history.
func (l *loader) queueTask(actor platform.Actor, p *contact, d *deal, ja bool) {
	y, m, dd := l.end.In(l.jst).Date()
	endOfToday := time.Date(y, m, dd+1, 0, 0, 0, 0, l.jst).UTC()
	var created, due time.Time
	done := false
	switch kind := l.tasksOpen % 4; {
	case kind == 0: // due today
		due = l.end.Add(endOfToday.Sub(l.end) / 2)
		created = l.end.Add(-days(2 + l.rng.Float64()*5))
	case kind == 1: // overdue
		due = l.end.Add(-days(1 + l.rng.Float64()*10))
		created = due.Add(-days(3 + l.rng.Float64()*5))
	case kind == 2: // upcoming
		due = l.end.Add(days(1 + l.rng.Float64()*14))
		created = l.end.Add(-days(l.rng.Float64() * 7))
	default: // done
		created = l.end.Add(-days(10 + l.rng.Float64()*60))
		due = created.Add(days(2 + l.rng.Float64()*5))
		done = true
	}
	l.tasksOpen++
	created = maxTime(created, p.created.Add(time.Hour))
	if d != nil {
		created = maxTime(created, d.created.Add(time.Hour))
	}
	if !due.After(created) {
		due = created.Add(days(1))
	}
	if created.After(l.end) {
		return
	}
	subject := pick(l.rng, []string{"フォローアップの電話", "見積書の送付", "稟議状況の確認", "導入事例資料の送付", "次回打ち合わせの日程調整"})
	if !ja {
		subject = pick(l.rng, []string{"Follow-up call", "Send the quote", "Check on the approval"})
	}
	in := crm.ActivityInput{Kind: ptr("task"), Subject: ptr(subject), DueAt: ptr(due)}
	var id int64
	l.at(created, "create task", func() error {
		in.ContactID = ptr(p.id)
		if d != nil {
			in.DealID = ptr(d.id)
		}
		x, err := l.crm.LogActivity(l.ctx, actor, in)
		id = x.ID
		return err
	})
	if done {
		doneAt := maxTime(created.Add(time.Hour), due.Add(-time.Duration(l.rng.IntN(24))*time.Hour))
		l.at(minTime(doneAt, l.end), "complete task", func() error {
			_, err := l.crm.UpdateActivity(l.ctx, actor, id, crm.ActivityInput{Done: ptr(true)})
			return err
		})
	}
}

func (l *loader) userByID(id int64) *demoUser {
	for _, u := range l.users {
		if u.u.ID == id {
			return u
		}
	}
	return l.admin
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// voiceJA and voiceEN are what customers say on the phone, by topic.
var voiceJA = map[string][]string{
	"pricing":         {"ユーザー数課金だと全社展開が難しいとのこと。", "年額一括なら予算化できるかもしれないと。", "他社より月額が高いと感じている。"},
	"feature_request": {"名刺管理アプリとの連携を強く希望。", "LINE公式アカウントからの問い合わせも取り込みたいとのこと。", "日報をスマホから出したい。"},
	"competitor":      {"HubSpotと比較検討中。", "既存のSFAの更新時期が3月。乗り換えを検討。", "Salesforceは高機能すぎると感じている。"},
	"objection":       {"情報システム部門のセキュリティ審査が必要。", "今期は予算が確保できていない。", "現場が新しいツールに慣れるか不安。"},
	"praise":          {"ウェビナーの事例紹介がわかりやすかったとのこと。", "ホワイトペーパーを社内共有してくれた。"},
}

var voiceEN = map[string][]string{
	"pricing":         {"Per-seat pricing makes a company-wide rollout hard.", "An annual plan could fit their budget."},
	"feature_request": {"Wants a Slack integration for lead alerts.", "Asked for a mobile daily report."},
	"competitor":      {"Comparing with HubSpot.", "Their current CRM renews in March."},
	"objection":       {"Needs a security review first.", "No budget this quarter."},
	"praise":          {"Liked the case study in the webinar.", "Shared our white paper internally."},
}
