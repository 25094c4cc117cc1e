package sequences

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/marketing/email"
	"github.com/ryorin/ryorin/internal/salesmail"
)

// Step actions.
const (
	ActionEmail = "email" // an email sent automatically as the enrolling rep
	ActionCall  = "call"  // a call task for the rep, due that day
	ActionTask  = "task"  // a to-do for the rep, due that day
)

// Actions lists the step actions.
var Actions = []string{ActionEmail, ActionCall, ActionTask}

// Limits of a sequence.
const (
	MaxSteps    = 20
	MaxDelay    = 90 // business days
	MaxNote     = 2000
	MaxNameSize = 200
)

// Step is one step of a sequence: after DelayDays business days from the
// previous step (or from enrolment, for the first), do Action.
type Step struct {
	DelayDays  int    `json:"delay_days" doc:"business days after the previous step (after enrolment for the first)"`
	Action     string `json:"action" doc:"email, call or task"`
	Subject    string `json:"subject,omitempty" doc:"email: subject template ({{.FamilyName}} …); call/task: the task's title"`
	Body       string `json:"body,omitempty" doc:"email: plain-text body template"`
	TemplateID int64  `json:"template_id,omitempty" doc:"email: a template whose subject and body fill what is left empty"`
	Note       string `json:"note,omitempty" doc:"call/task: a note for the rep"`
}

// ParseSteps reads a step list as the API sends it: a JSON array of steps,
// unknown members refused. Errors name the step's field (steps[2].delay_days).
func ParseSteps(raw []byte) ([]Step, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errs.Field("steps", "is required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var steps []Step
	if err := dec.Decode(&steps); err != nil {
		return nil, errs.Field("steps", "is not a list of steps: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, errs.Field("steps", "has data after the list")
	}
	if err := ValidateSteps(steps); err != nil {
		return nil, err
	}
	return steps, nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s has the wrong type", te.Field)
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// ValidateSteps checks a step list and tidies its text; an error names the
// step's field. Template ids are checked when the sequence is saved.
func ValidateSteps(steps []Step) error {
	if len(steps) == 0 {
		return errs.Field("steps", "a sequence needs at least one step")
	}
	if len(steps) > MaxSteps {
		return errs.Field("steps", "a sequence has at most %d steps", MaxSteps)
	}
	for i := range steps {
		st := &steps[i]
		f := func(name string) string { return fmt.Sprintf("steps[%d].%s", i, name) }
		if st.DelayDays < 0 || st.DelayDays > MaxDelay {
			return errs.Field(f("delay_days"), "must be 0 to %d business days", MaxDelay)
		}
		st.Subject = strings.TrimSpace(st.Subject)
		if strings.ContainsAny(st.Subject, "\r\n") || len(st.Subject) > 500 {
			return errs.Field(f("subject"), "must be one line of at most 500 bytes")
		}
		if st.TemplateID < 0 {
			return errs.Field(f("template_id"), "must be a template id")
		}
		switch st.Action {
		case ActionEmail:
			st.Note = ""
			if st.TemplateID == 0 && st.Subject == "" {
				return errs.Field(f("subject"), "an email step needs a subject (or a template)")
			}
			if st.TemplateID == 0 && strings.TrimSpace(st.Body) == "" {
				return errs.Field(f("body"), "an email step needs a body (or a template)")
			}
			if len(st.Body) > salesmail.MaxBody {
				return errs.Field(f("body"), "is longer than %d bytes", salesmail.MaxBody)
			}
			if st.Subject != "" && strings.TrimSpace(st.Body) != "" {
				if _, err := email.Parse(email.Template{Subject: st.Subject, Text: st.Body}); err != nil {
					field, msg := "body", err.Error()
					if e, ok := errs.As(err); ok {
						msg = e.Message
						if e.Field == "subject" {
							field = "subject"
						}
					}
					return errs.Field(f(field), "is not a valid template: %s", msg)
				}
			}
		case ActionCall, ActionTask:
			st.Body, st.TemplateID = "", 0
			if len(st.Note) > MaxNote {
				return errs.Field(f("note"), "is longer than %d bytes", MaxNote)
			}
		default:
			return errs.Field(f("action"), "must be one of %s", strings.Join(Actions, ", "))
		}
	}
	return nil
}
