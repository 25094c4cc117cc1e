package platform

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/errs"
)

// User is a person who signs in to Ryorin.
type User struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        Role      `json:"role"`
	TeamID      int64     `json:"team_id,omitempty"`
	Locale      string    `json:"locale,omitempty"`
	TimeZone    string    `json:"time_zone,omitempty"`
	TOTPEnabled bool      `json:"totp_enabled"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	passwordHash string
	totpSecret   string
}

// Actor returns the actor for this user acting through kind.
func (u User) Actor(ws int64, kind ActorKind) Actor {
	return Actor{WorkspaceID: ws, UserID: u.ID, Role: u.Role, TeamID: u.TeamID, Kind: kind}
}

// NewUser is the input for CreateUser.
type NewUser struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	TeamID   int64  `json:"team_id,omitempty"`
	Locale   string `json:"locale,omitempty"`
	Password string `json:"password,omitempty"`
}

// NormalizeEmail lowercases and trims an address and checks its form.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return s, false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return s, false
	}
	return s, true
}

// CreateUser adds a user. Only admins may; the CLI acts as admin.
func CreateUser(ctx context.Context, d *db.DB, a Actor, in NewUser, now time.Time) (User, error) {
	if !a.Is(RoleAdmin) {
		return User{}, errs.E(errs.Forbidden, "", "only admins add users")
	}
	email, ok := NormalizeEmail(in.Email)
	if !ok {
		return User{}, errs.Field("email", "is not a valid email address")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return User{}, errs.Field("name", "is required")
	}
	if !in.Role.Valid() {
		return User{}, errs.Field("role", "must be one of admin, manager, marketing, sales")
	}
	if in.Locale != "" && in.Locale != "ja" && in.Locale != "en" {
		return User{}, errs.Field("locale", "must be ja or en")
	}
	hash := ""
	if in.Password != "" {
		if err := CheckPasswordStrength(in.Password); err != nil {
			return User{}, err
		}
		var err error
		if hash, err = HashPassword(in.Password); err != nil {
			return User{}, err
		}
	}
	u := User{Email: email, Name: in.Name, Role: in.Role, TeamID: in.TeamID, Locale: in.Locale, Active: true,
		CreatedAt: now, UpdatedAt: now, passwordHash: hash}
	err := d.Write(ctx, "platform.CreateUser", func(tx *db.Tx) error {
		if in.TeamID != 0 {
			if _, err := GetTeam(ctx, tx, a.WorkspaceID, in.TeamID); err != nil {
				return errs.Rule("team_id", "team %d does not exist", in.TeamID)
			}
		}
		err := tx.QueryRowContext(ctx, `-- platform.CreateUser
			INSERT INTO users (workspace_id, email, name, role, team_id, locale, password_hash, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, u.Email, u.Name, string(u.Role), db.NullInt(u.TeamID), u.Locale, hash, db.Millis(now), db.Millis(now)).Scan(&u.ID)
		if db.IsUniqueViolation(err) {
			e := errs.E(errs.Conflict, "email", "a user with this email already exists")
			_ = d.Reader().QueryRowContext(ctx, `SELECT id FROM users WHERE workspace_id = ? AND email = ?`, a.WorkspaceID, email).Scan(&e.ExistingID)
			return e
		}
		if err != nil {
			return fmt.Errorf("platform.CreateUser: %w", err)
		}
		return Audit(ctx, tx, a, now, "create", "user", u.ID, u)
	})
	return u, err
}

const userCols = `id, email, name, role, COALESCE(team_id, 0), locale, time_zone, totp_enabled, active, created_at, updated_at, password_hash, totp_secret`

func scanUser(s interface{ Scan(...any) error }) (User, error) {
	var u User
	var c, up int64
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.TeamID, &u.Locale, &u.TimeZone, &u.TOTPEnabled, &u.Active, &c, &up, &u.passwordHash, &u.totpSecret)
	u.CreatedAt, u.UpdatedAt = db.Time(c), db.Time(up)
	return u, err
}

// GetUser loads one user.
func GetUser(ctx context.Context, q db.Querier, ws, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `-- platform.GetUser
		SELECT `+userCols+` FROM users WHERE workspace_id = ? AND id = ?`, ws, id))
	if db.NoRows(err) {
		return u, errs.NotFoundf("user %d not found", id)
	}
	if err != nil {
		return u, fmt.Errorf("platform.GetUser(%d): %w", id, err)
	}
	return u, nil
}

// UserByEmail loads the user with an email address.
func UserByEmail(ctx context.Context, q db.Querier, ws int64, email string) (User, error) {
	email, _ = NormalizeEmail(email)
	u, err := scanUser(q.QueryRowContext(ctx, `-- platform.UserByEmail
		SELECT `+userCols+` FROM users WHERE workspace_id = ? AND email = ?`, ws, email))
	if db.NoRows(err) {
		return u, errs.NotFoundf("no user with email %q", email)
	}
	if err != nil {
		return u, fmt.Errorf("platform.UserByEmail(%q): %w", email, err)
	}
	return u, nil
}

// ListUsers returns every user of the workspace, by name.
func ListUsers(ctx context.Context, q db.Querier, ws int64) ([]User, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListUsers
		SELECT `+userCols+` FROM users WHERE workspace_id = ? ORDER BY name, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("platform.ListUsers: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserPatch holds the user fields to change; nil fields stay as they are.
type UserPatch struct {
	Name     *string `json:"name,omitempty"`
	Role     *Role   `json:"role,omitempty"`
	TeamID   *int64  `json:"team_id,omitempty"`
	Locale   *string `json:"locale,omitempty"`
	TimeZone *string `json:"time_zone,omitempty"`
	Active   *bool   `json:"active,omitempty"`
}

// UpdateUser changes a user. Admins may change anyone; users may change their
// own name, locale and time zone.
func UpdateUser(ctx context.Context, d *db.DB, a Actor, id int64, p UserPatch, now time.Time) (User, error) {
	self := a.UserID == id
	if !a.Is(RoleAdmin) && (!self || p.Role != nil || p.TeamID != nil || p.Active != nil) {
		return User{}, errs.E(errs.Forbidden, "", "only admins change roles, teams and other users")
	}
	var out User
	err := d.Write(ctx, "platform.UpdateUser", func(tx *db.Tx) error {
		u, err := GetUser(ctx, tx, a.WorkspaceID, id)
		if err != nil {
			return err
		}
		before := u
		if p.Name != nil {
			if strings.TrimSpace(*p.Name) == "" {
				return errs.Field("name", "must not be empty")
			}
			u.Name = strings.TrimSpace(*p.Name)
		}
		if p.Role != nil {
			if !p.Role.Valid() {
				return errs.Field("role", "must be one of admin, manager, marketing, sales")
			}
			u.Role = *p.Role
		}
		if p.TeamID != nil {
			if *p.TeamID != 0 {
				if _, err := GetTeam(ctx, tx, a.WorkspaceID, *p.TeamID); err != nil {
					return errs.Rule("team_id", "team %d does not exist", *p.TeamID)
				}
			}
			u.TeamID = *p.TeamID
		}
		if p.Locale != nil {
			if *p.Locale != "" && *p.Locale != "ja" && *p.Locale != "en" {
				return errs.Field("locale", "must be ja or en")
			}
			u.Locale = *p.Locale
		}
		if p.TimeZone != nil {
			if _, err := time.LoadLocation(*p.TimeZone); err != nil {
				return errs.Field("time_zone", "unknown time zone %q", *p.TimeZone)
			}
			u.TimeZone = *p.TimeZone
		}
		if p.Active != nil {
			u.Active = *p.Active
		}
		if before.Role == RoleAdmin && before.Active && (u.Role != RoleAdmin || !u.Active) {
			var admins int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = ? AND role = 'admin' AND active = TRUE AND id <> ?`,
				a.WorkspaceID, id).Scan(&admins); err != nil {
				return err
			}
			if admins == 0 {
				return errs.Rule("role", "this is the last active admin; make someone else admin first")
			}
		}
		u.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `-- platform.UpdateUser
			UPDATE users SET name = ?, role = ?, team_id = ?, locale = ?, time_zone = ?, active = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, u.Name, string(u.Role), db.NullInt(u.TeamID), u.Locale, u.TimeZone, u.Active,
			db.Millis(now), a.WorkspaceID, id)
		if err != nil {
			return fmt.Errorf("platform.UpdateUser: %w", err)
		}
		if !u.Active {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE workspace_id = ? AND user_id = ?`, a.WorkspaceID, id); err != nil {
				return err
			}
		}
		out = u
		return Audit(ctx, tx, a, now, "update", "user", id, Diff(before, u))
	})
	return out, err
}

// Team is a group of users with a manager. Function says which side of the
// house it is on, so approvals can require one marketing and one sales member.
type Team struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Function  string    `json:"function"` // marketing, sales, other
	ManagerID int64     `json:"manager_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewTeam is the input for SaveTeam.
type NewTeam struct {
	Name      string `json:"name"`
	Function  string `json:"function"`
	ManagerID int64  `json:"manager_id,omitempty"`
}

// SaveTeam creates a team (id 0) or updates one. Only admins may.
func SaveTeam(ctx context.Context, d *db.DB, a Actor, id int64, in NewTeam, now time.Time) (Team, error) {
	if !a.Is(RoleAdmin) {
		return Team{}, errs.E(errs.Forbidden, "", "only admins manage teams")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return Team{}, errs.Field("name", "is required")
	}
	if in.Function == "" {
		in.Function = "other"
	}
	if in.Function != "marketing" && in.Function != "sales" && in.Function != "other" {
		return Team{}, errs.Field("function", "must be marketing, sales or other")
	}
	t := Team{ID: id, Name: in.Name, Function: in.Function, ManagerID: in.ManagerID, CreatedAt: now, UpdatedAt: now}
	err := d.Write(ctx, "platform.SaveTeam", func(tx *db.Tx) error {
		if in.ManagerID != 0 {
			if _, err := GetUser(ctx, tx, a.WorkspaceID, in.ManagerID); err != nil {
				return errs.Rule("manager_id", "user %d does not exist", in.ManagerID)
			}
		}
		var err error
		action := "create"
		if id == 0 {
			err = tx.QueryRowContext(ctx, `-- platform.SaveTeam
				INSERT INTO teams (workspace_id, name, function, manager_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				a.WorkspaceID, t.Name, t.Function, db.NullInt(t.ManagerID), db.Millis(now), db.Millis(now)).Scan(&t.ID)
		} else {
			action = "update"
			old, gerr := GetTeam(ctx, tx, a.WorkspaceID, id)
			if gerr != nil {
				return gerr
			}
			t.CreatedAt = old.CreatedAt
			_, err = tx.ExecContext(ctx, `UPDATE teams SET name = ?, function = ?, manager_id = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				t.Name, t.Function, db.NullInt(t.ManagerID), db.Millis(now), a.WorkspaceID, id)
		}
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "name", "a team with this name already exists")
		}
		if err != nil {
			return fmt.Errorf("platform.SaveTeam: %w", err)
		}
		return Audit(ctx, tx, a, now, action, "team", t.ID, t)
	})
	return t, err
}

// GetTeam loads one team.
func GetTeam(ctx context.Context, q db.Querier, ws, id int64) (Team, error) {
	var t Team
	var c, u int64
	err := q.QueryRowContext(ctx, `-- platform.GetTeam
		SELECT id, name, function, COALESCE(manager_id, 0), created_at, updated_at FROM teams WHERE workspace_id = ? AND id = ?`,
		ws, id).Scan(&t.ID, &t.Name, &t.Function, &t.ManagerID, &c, &u)
	if db.NoRows(err) {
		return t, errs.NotFoundf("team %d not found", id)
	}
	t.CreatedAt, t.UpdatedAt = db.Time(c), db.Time(u)
	return t, err
}

// ListTeams returns the workspace's teams by name.
func ListTeams(ctx context.Context, q db.Querier, ws int64) ([]Team, error) {
	rows, err := q.QueryContext(ctx, `-- platform.ListTeams
		SELECT id, name, function, COALESCE(manager_id, 0), created_at, updated_at FROM teams WHERE workspace_id = ? ORDER BY name`, ws)
	if err != nil {
		return nil, fmt.Errorf("platform.ListTeams: %w", err)
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		var t Team
		var c, u int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Function, &t.ManagerID, &c, &u); err != nil {
			return nil, err
		}
		t.CreatedAt, t.UpdatedAt = db.Time(c), db.Time(u)
		out = append(out, t)
	}
	return out, rows.Err()
}

// TeamByName loads a team by its name.
func TeamByName(ctx context.Context, q db.Querier, ws int64, name string) (Team, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM teams WHERE workspace_id = ? AND name = ?`, ws, name).Scan(&id)
	if db.NoRows(err) {
		return Team{}, errs.NotFoundf("no team named %q", name)
	}
	if err != nil {
		return Team{}, err
	}
	return GetTeam(ctx, q, ws, id)
}

// ApproverSide is the side — "marketing" or "sales" — a user signs for when
// both teams must agree on something (what names it in the refusal): the
// function of the user's team. Users outside such a team may not approve.
func ApproverSide(ctx context.Context, q db.Querier, a Actor, what string) (string, error) {
	if a.UserID == 0 || a.TeamID == 0 {
		return "", errs.E(errs.Forbidden, "", "only members of a marketing or a sales team approve %s", what)
	}
	t, err := GetTeam(ctx, q, a.WorkspaceID, a.TeamID)
	if err != nil {
		return "", err
	}
	if t.Function != "marketing" && t.Function != "sales" {
		return "", errs.E(errs.Forbidden, "", "only members of a marketing or a sales team approve %s", what)
	}
	return t.Function, nil
}
