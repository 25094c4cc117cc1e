package journeys

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/platform"
)

// dateBatch is how many contacts one write transaction of a date trigger
// enrols.
const dateBatch = 200

// FollowDates runs the date triggers of active journeys: once a day, at the
// trigger's time in the workspace's zone, contacts whose date property plus
// the offset is today enter. Each journey's progress through the day is a
// pair of marks (the day, the last contact id done), moved with each batch
// of enrolments, so a restart goes on where it stopped and never enrols a
// contact twice for the same day.
func (s *Service) FollowDates(ctx context.Context, ws int64) (int, error) {
	js, err := s.activeJourneys(ctx, ws)
	if err != nil {
		return 0, err
	}
	w, err := platform.GetWorkspace(ctx, s.DB.Reader(), ws)
	if err != nil {
		return 0, err
	}
	loc := w.Location()
	now := s.Clock.Now().In(loc)
	total := 0
	for _, j := range js {
		tr := j.Definition.Trigger
		if tr.Kind != TriggerDate {
			continue
		}
		at := tr.At
		if at == "" {
			at = "09:00"
		}
		h, _ := strconv.Atoi(at[:2])
		m, _ := strconv.Atoi(at[3:])
		start := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, loc)
		if now.Before(start) || (j.ActivatedAt != nil && j.ActivatedAt.After(start)) {
			continue // not yet today, or activated after today's time: from tomorrow
		}
		day := int64(now.Year()*10000 + int(now.Month())*100 + now.Day())
		dayMark, afterMark := fmt.Sprintf("journeys.date.%d.day", j.ID), fmt.Sprintf("journeys.date.%d.after", j.ID)
		marks, err := readMarks(ctx, s.DB.Reader(), ws, dayMark, afterMark)
		if err != nil {
			return total, err
		}
		after := int64(0)
		if marks[dayMark] == day {
			after = marks[afterMark]
		}
		if after < 0 {
			continue // today is done
		}
		target := now.AddDate(0, 0, -tr.OffsetDays).Format(time.DateOnly)
		for {
			rows, err := s.DB.Reader().QueryContext(ctx, `-- journeys.FollowDates
				SELECT id FROM contacts WHERE workspace_id = ? AND id > ? AND props ->> CAST(? AS TEXT) = ? ORDER BY id LIMIT ?`,
				ws, after, tr.Property, target, dateBatch)
			if err != nil {
				return total, fmt.Errorf("journeys.FollowDates: %w", err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return total, err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return total, err
			}
			next := int64(-1) // the day is done
			if len(ids) == dateBatch {
				next = ids[len(ids)-1]
			}
			err = s.DB.Write(ctx, "journeys.FollowDates", func(tx *db.Tx) error {
				for _, id := range ids {
					ok, err := s.enrol(ctx, tx, ws, j, id, "date "+target)
					if err != nil {
						return err
					}
					if ok {
						total++
					}
				}
				return setMarks(ctx, tx, ws, map[string]int64{dayMark: day, afterMark: next})
			})
			if err != nil {
				return total, fmt.Errorf("journeys.FollowDates: %w", err)
			}
			if next < 0 {
				break
			}
			after = next
		}
	}
	return total, nil
}

func readMarks(ctx context.Context, q db.Querier, ws int64, names ...string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, n := range names {
		var v int64
		err := q.QueryRowContext(ctx, `SELECT value FROM work_marks WHERE workspace_id = ? AND name = ?`, ws, n).Scan(&v)
		if err != nil && !db.NoRows(err) {
			return nil, fmt.Errorf("journeys.readMarks: %w", err)
		}
		out[n] = v
	}
	return out, nil
}
