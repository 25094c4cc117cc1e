// Package journeys owns nurture journeys: a trigger that enrols contacts and
// a list of steps (email, wait, branch, property, list, notify, task, hand-off,
// exit) each enrolment walks, with goals that end it early. Triggers are read
// from the foundation's events and lifecycle history past durable marks;
// enrolments advance in a periodic job, one step per write transaction, each
// executed step recorded with its (enrolment, step) key in the same
// transaction as the move (docs/adr/0012-journeys.md). It uses crm, lead,
// segments, email and platform; it never imports web, api, httpx or app.
package journeys

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/lead/rules"
	"github.com/ryorin/ryorin/internal/platform"
)

// Trigger kinds.
const (
	TriggerForm      = "form_submitted"
	TriggerSegment   = "segment_entered"
	TriggerLifecycle = "lifecycle_changed"
	TriggerRecycled  = "recycled"
	TriggerEvent     = "event"
	TriggerDate      = "date_property"
)

// TriggerKinds lists the trigger kinds in display order.
var TriggerKinds = []string{TriggerForm, TriggerSegment, TriggerLifecycle, TriggerRecycled, TriggerEvent, TriggerDate}

// Step types.
const (
	StepEmail       = "email"
	StepWait        = "wait"
	StepBranch      = "branch"
	StepSetProperty = "set_property"
	StepAddList     = "add_to_list"
	StepRemoveList  = "remove_from_list"
	StepNotifyOwner = "notify_owner"
	StepCreateTask  = "create_task"
	StepHandOff     = "hand_off"
	StepExit        = "exit"
)

// StepTypes lists the step types in display order.
var StepTypes = []string{StepEmail, StepWait, StepBranch, StepSetProperty, StepAddList, StepRemoveList, StepNotifyOwner, StepCreateTask, StepHandOff, StepExit}

// Definition is what a journey does: who enters, what happens to them, and
// when they leave early.
type Definition struct {
	Trigger Trigger `json:"trigger"`
	// Goal is a rule condition (the lead rule language) checked before each
	// step: a contact who meets it leaves the journey as converted.
	Goal  string `json:"goal,omitempty" doc:"a rule condition checked before each step; a contact who meets it leaves the journey (e.g. stage == \"sql\")"`
	Steps []Step `json:"steps"`
}

// Trigger says which contacts enter.
type Trigger struct {
	Kind      string `json:"kind" doc:"form_submitted, segment_entered, lifecycle_changed, recycled or event"`
	FormID    int64  `json:"form_id,omitempty" doc:"form_submitted: only this form (0: any form)"`
	SegmentID int64  `json:"segment_id,omitempty" doc:"segment_entered: the segment"`
	Stage     string `json:"stage,omitempty" doc:"lifecycle_changed: the stage entered (empty: any change)"`
	Event     string `json:"event,omitempty" doc:"event: the custom event kind sent to the events API, e.g. webinar_attended"`
	// Property, OffsetDays and At make a date trigger: each day at At (the
	// workspace's time zone), contacts whose date property plus OffsetDays
	// is that day enter, e.g. 30 days before a renewal date.
	Property   string `json:"property,omitempty" doc:"date_property: a custom date property of contacts"`
	OffsetDays int    `json:"offset_days,omitempty" doc:"date_property: days after the date (negative: before), -365 to 365"`
	At         string `json:"at,omitempty" doc:"date_property: the time of day HH:MM they enter (default 09:00)"`
}

// Step is one thing a journey does. Exactly the part named by its type is set.
type Step struct {
	ID   string `json:"id" doc:"unique within the journey: letters, digits, '_' or '-'"`
	Type string `json:"type" doc:"email, wait, branch, set_property, add_to_list, remove_from_list, notify_owner, create_task, hand_off or exit"`
	// Next is where to go after this step; empty: the following step (after
	// the last step the journey is complete). It must be a later step.
	Next     string        `json:"next,omitempty" doc:"the id of a later step to go to next (default: the following step)"`
	Email    *EmailStep    `json:"email,omitempty"`
	Wait     *WaitStep     `json:"wait,omitempty"`
	Branch   *BranchStep   `json:"branch,omitempty"`
	Property *PropertyStep `json:"property,omitempty"`
	List     *ListStep     `json:"list,omitempty"`
	Notify   *NotifyStep   `json:"notify,omitempty"`
	Task     *TaskStep     `json:"task,omitempty"`
}

// EmailStep sends the template of an existing email campaign.
type EmailStep struct {
	TemplateID int64 `json:"template_id" doc:"the email campaign whose template is sent"`
}

// WaitStep waits for a duration, then optionally until a time of day and/or
// business hours (the workspace's time zone; weekdays 9:00–18:00 without
// Japanese holidays and 年末年始).
type WaitStep struct {
	Duration      string `json:"duration,omitempty" doc:"e.g. 30m, 4h, 3d"`
	Until         string `json:"until,omitempty" doc:"a time of day HH:MM: wait further until the next such time"`
	BusinessHours bool   `json:"business_hours,omitempty" doc:"wait further until business hours"`
}

// BranchStep goes to Yes or No: on a rule condition, or on whether the
// contact opened or clicked the mail of an earlier email step.
type BranchStep struct {
	Condition  string `json:"condition,omitempty" doc:"a rule condition on the contact, e.g. employees >= 100"`
	Engagement string `json:"engagement,omitempty" doc:"opened or clicked (instead of condition)"`
	EmailStep  string `json:"email_step,omitempty" doc:"engagement: the id of an earlier email step"`
	Yes        string `json:"yes,omitempty" doc:"the later step to go to when true (default: the following step)"`
	No         string `json:"no,omitempty" doc:"the later step to go to when false (default: the following step)"`
}

// PropertyStep sets one contact field.
type PropertyStep struct {
	Name  string `json:"name" doc:"title, department, lifecycle_stage, or a custom property as props.<key>"`
	Value string `json:"value" doc:"the value (empty clears a custom property)"`
}

// ListStep names a static list.
type ListStep struct {
	ListID int64 `json:"list_id"`
}

// NotifyStep tells the contact's owner something.
type NotifyStep struct {
	Message string `json:"message"`
}

// TaskStep creates a task for the contact's owner.
type TaskStep struct {
	Subject string `json:"subject"`
	DueIn   string `json:"due_in,omitempty" doc:"when it is due from now, e.g. 1d (default 1d)"`
}

// MaxSteps bounds a journey's length.
const MaxSteps = 100

var stepIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
var eventKindRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
var clockRe = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// ParseDefinition reads a definition from JSON, refusing unknown members,
// and validates it. Errors name the place, e.g. steps[2].wait.duration.
func ParseDefinition(raw []byte) (Definition, error) {
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return d, errs.Field("definition", "unknown member %s", f)
		}
		var te *json.UnmarshalTypeError
		if asTypeErr(err, &te) {
			return d, errs.Field(te.Field, "must be a %s", te.Type.String())
		}
		return d, errs.Field("definition", "is not valid JSON: %s", msg)
	}
	return d, d.Validate()
}

func asTypeErr(err error, te **json.UnmarshalTypeError) bool {
	t, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = t
	}
	return ok
}

// Validate checks a definition without the database: the trigger, each
// step's own part, that ids are unique and every jump goes to a later step
// (so a journey always ends and visits each step at most once), and that
// rules compile. Errors name the field, e.g. steps[2].wait.
func (d *Definition) Validate() error {
	t := &d.Trigger
	switch t.Kind {
	case TriggerForm:
		if t.FormID < 0 {
			return errs.Field("trigger.form_id", "must be a form id")
		}
	case TriggerSegment:
		if t.SegmentID <= 0 {
			return errs.Field("trigger.segment_id", "is required")
		}
	case TriggerLifecycle:
		if t.Stage != "" && !platform.Stage(t.Stage).Valid() {
			return errs.Field("trigger.stage", "must be a lifecycle stage")
		}
	case TriggerRecycled:
	case TriggerEvent:
		if !eventKindRe.MatchString(t.Event) {
			return errs.Field("trigger.event", "must be a lower_snake_case event kind, e.g. webinar_attended")
		}
	case TriggerDate:
		if !eventKindRe.MatchString(t.Property) {
			return errs.Field("trigger.property", "must be the key of a custom date property")
		}
		if t.OffsetDays < -365 || t.OffsetDays > 365 {
			return errs.Field("trigger.offset_days", "must be between -365 and 365")
		}
		if t.At != "" && !clockRe.MatchString(t.At) {
			return errs.Field("trigger.at", "must be a time of day HH:MM, e.g. 09:00")
		}
	default:
		return errs.Field("trigger.kind", "must be one of %s", strings.Join(TriggerKinds, ", "))
	}
	if d.Goal = strings.TrimSpace(d.Goal); d.Goal != "" {
		if _, err := rules.Compile(d.Goal, rules.Condition); err != nil {
			return errs.Field("goal", "%s", err.Error())
		}
	}
	if len(d.Steps) == 0 {
		return errs.Field("steps", "add at least one step")
	}
	if len(d.Steps) > MaxSteps {
		return errs.Field("steps", "at most %d steps", MaxSteps)
	}
	index := map[string]int{}
	for i := range d.Steps {
		s := &d.Steps[i]
		s.ID = strings.TrimSpace(s.ID)
		if s.ID == "" {
			s.ID = "s" + strconv.Itoa(i+1)
		}
		if !stepIDRe.MatchString(s.ID) {
			return errs.Field(fmt.Sprintf("steps[%d].id", i), "letters, digits, '_' or '-', at most 40")
		}
		if _, dup := index[s.ID]; dup {
			return errs.Field(fmt.Sprintf("steps[%d].id", i), "%q is used by another step", s.ID)
		}
		index[s.ID] = i
	}
	later := func(i int, field, target string) error {
		if target == "" {
			return nil
		}
		j, ok := index[target]
		if !ok {
			return errs.Field(fmt.Sprintf("steps[%d].%s", i, field), "no step %q", target)
		}
		if j <= i {
			return errs.Field(fmt.Sprintf("steps[%d].%s", i, field), "must be a later step (journeys only go forward)")
		}
		return nil
	}
	for i := range d.Steps {
		if err := d.validateStep(i, index, later); err != nil {
			return err
		}
	}
	return nil
}

func (d *Definition) validateStep(i int, index map[string]int, later func(i int, field, target string) error) error {
	s := &d.Steps[i]
	at := func(part string) string { return fmt.Sprintf("steps[%d].%s", i, part) }
	parts := map[string]bool{StepEmail: s.Email != nil, StepWait: s.Wait != nil, StepBranch: s.Branch != nil,
		"property": s.Property != nil, "list": s.List != nil, "notify": s.Notify != nil, "task": s.Task != nil}
	need := map[string]string{StepEmail: StepEmail, StepWait: StepWait, StepBranch: StepBranch, StepSetProperty: "property",
		StepAddList: "list", StepRemoveList: "list", StepNotifyOwner: "notify", StepCreateTask: "task", StepHandOff: "", StepExit: ""}
	want, ok := need[s.Type]
	if !ok {
		return errs.Field(at("type"), "must be one of %s", strings.Join(StepTypes, ", "))
	}
	for p, set := range parts {
		if set && p != want {
			return errs.Field(at(p), "does not belong to a %s step", s.Type)
		}
	}
	if want != "" && !parts[want] {
		return errs.Field(at(want), "is required for a %s step", s.Type)
	}
	if err := later(i, "next", s.Next); err != nil {
		return err
	}
	switch s.Type {
	case StepEmail:
		if s.Email.TemplateID <= 0 {
			return errs.Field(at("email.template_id"), "choose an email template")
		}
	case StepWait:
		w := s.Wait
		if w.Duration == "" && w.Until == "" && !w.BusinessHours {
			return errs.Field(at("wait"), "set a duration, a time of day or business hours")
		}
		if w.Duration != "" {
			if _, err := ParseDuration(w.Duration); err != nil {
				return errs.Field(at("wait.duration"), "%s", err.Error())
			}
		}
		if w.Until != "" && !clockRe.MatchString(w.Until) {
			return errs.Field(at("wait.until"), "must be a time of day HH:MM, e.g. 09:00")
		}
	case StepBranch:
		b := s.Branch
		b.Condition = strings.TrimSpace(b.Condition)
		switch {
		case b.Condition != "" && b.Engagement != "":
			return errs.Field(at("branch"), "branch on a condition or on engagement, not both")
		case b.Condition != "":
			if b.EmailStep != "" {
				return errs.Field(at("branch.email_step"), "is only for an engagement branch")
			}
			if _, err := rules.Compile(b.Condition, rules.Condition); err != nil {
				return errs.Field(at("branch.condition"), "%s", err.Error())
			}
		case b.Engagement == "opened" || b.Engagement == "clicked":
			j, ok := index[b.EmailStep]
			if !ok || j >= i || d.Steps[j].Type != StepEmail {
				return errs.Field(at("branch.email_step"), "must be an earlier email step")
			}
		case b.Engagement != "":
			return errs.Field(at("branch.engagement"), "must be opened or clicked")
		default:
			return errs.Field(at("branch"), "set a condition or an engagement")
		}
		if s.Next != "" {
			return errs.Field(at("next"), "a branch goes to yes or no")
		}
		if err := later(i, "branch.yes", b.Yes); err != nil {
			return err
		}
		if err := later(i, "branch.no", b.No); err != nil {
			return err
		}
	case StepSetProperty:
		p := s.Property
		p.Name = strings.TrimSpace(p.Name)
		switch {
		case p.Name == "title" || p.Name == "department":
		case p.Name == "lifecycle_stage":
			if !platform.Stage(p.Value).Valid() {
				return errs.Field(at("property.value"), "must be a lifecycle stage")
			}
		case strings.HasPrefix(p.Name, "props.") && len(p.Name) > len("props."):
		default:
			return errs.Field(at("property.name"), "must be title, department, lifecycle_stage or props.<key>")
		}
	case StepAddList, StepRemoveList:
		if s.List.ListID <= 0 {
			return errs.Field(at("list.list_id"), "choose a list")
		}
	case StepNotifyOwner:
		if s.Notify.Message = strings.TrimSpace(s.Notify.Message); s.Notify.Message == "" || len(s.Notify.Message) > 2000 {
			return errs.Field(at("notify.message"), "is required (at most 2,000 bytes)")
		}
	case StepCreateTask:
		t := s.Task
		if t.Subject = strings.TrimSpace(t.Subject); t.Subject == "" || len(t.Subject) > 500 {
			return errs.Field(at("task.subject"), "is required (at most 500 bytes)")
		}
		if t.DueIn != "" {
			if _, err := ParseDuration(t.DueIn); err != nil {
				return errs.Field(at("task.due_in"), "%s", err.Error())
			}
		}
	case StepExit:
		if s.Next != "" {
			return errs.Field(at("next"), "an exit step ends the journey")
		}
	}
	return nil
}

// ParseDuration reads a wait such as 30m, 4h, 3d or 2w (at most a year).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("must be a number and a unit (m, h, d or w), e.g. 3d")
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("must be a positive number and a unit (m, h, d or w), e.g. 3d")
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("the unit must be m, h, d or w")
	}
	d := time.Duration(n) * unit
	if d > 366*24*time.Hour {
		return 0, fmt.Errorf("at most a year")
	}
	return d, nil
}

// stepIndex returns the position of step id, or -1.
func (d Definition) stepIndex(id string) int {
	for i, s := range d.Steps {
		if s.ID == id {
			return i
		}
	}
	return -1
}

// after returns the id of the step that follows step i by default, or "" at
// the end.
func (d Definition) after(i int) string {
	if s := d.Steps[i]; s.Next != "" {
		return s.Next
	}
	if i+1 < len(d.Steps) {
		return d.Steps[i+1].ID
	}
	return ""
}
