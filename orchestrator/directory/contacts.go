package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Contact is a person or a role to call: how to reach them and who stands
// in for them.
type Contact struct {
	Key          string    `json:"key"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	Organisation string    `json:"organisation"`
	Phone        string    `json:"phone"`
	Email        string    `json:"email"`
	Chat         string    `json:"chat"`
	Deputies     []string  `json:"deputies"`
	Notes        string    `json:"notes"`
	Source       string    `json:"source"`
	ExternalID   string    `json:"external_id"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ContactInput is what a client sends to create or replace a contact, and
// what one row of a contact import holds. Deputies are contact keys.
type ContactInput struct {
	Key          string   `json:"key"`
	Name         string   `json:"name"`
	Role         string   `json:"role"`
	Organisation string   `json:"organisation"`
	Phone        string   `json:"phone"`
	Email        string   `json:"email"`
	Chat         string   `json:"chat"`
	Deputies     []string `json:"deputies"`
	Notes        string   `json:"notes"`
	Source       string   `json:"source"`
	ExternalID   string   `json:"external_id"`
}

// Normalize trims the input and fills defaults: the source given and an
// external id equal to the key.
func (in *ContactInput) Normalize(defaultSource string) {
	trim(&in.Key, &in.Name, &in.Role, &in.Organisation, &in.Phone, &in.Email, &in.Chat, &in.Source, &in.ExternalID)
	in.Deputies = trimList(in.Deputies)
	if in.Source == "" {
		in.Source = defaultSource
	}
	if in.ExternalID == "" {
		in.ExternalID = in.Key
	}
}

// Validate checks a contact without the database, naming every bad field.
func (in *ContactInput) Validate() error {
	var v orchestrator.Validation
	checkKey(&v, "key", in.Key)
	v.Require("name", in.Name)
	checkText(&v, "name", in.Name, maxName, false)
	checkText(&v, "role", in.Role, maxShort, false)
	checkText(&v, "organisation", in.Organisation, maxShort, false)
	checkPhone(&v, "phone", in.Phone)
	checkEmail(&v, "email", in.Email)
	checkText(&v, "chat", in.Chat, maxShort, false)
	checkRefs(&v, "deputies", in.Deputies, maxContacts)
	if i := slices.Index(in.Deputies, in.Key); i >= 0 && in.Key != "" {
		v.Add(fmt.Sprintf("deputies[%d]", i), "a contact cannot be its own deputy")
	}
	checkText(&v, "notes", in.Notes, maxNotes, true)
	checkIdentity(&v, in.Source, in.ExternalID)
	return v.Err()
}

// ContactFilter narrows a contact listing; zero fields match everything.
type ContactFilter struct {
	Query        string // case-insensitive substring of key or name
	Role         string // case-insensitive
	Organisation string // case-insensitive
}

func (f ContactFilter) validate() error {
	var v orchestrator.Validation
	checkFilter(&v, "q", f.Query)
	checkFilter(&v, "role", f.Role)
	checkFilter(&v, "organisation", f.Organisation)
	return v.Err()
}

const contactSelect = `SELECT c.key, c.name, c.role, c.organisation, c.phone, c.email, c.chat,
	ARRAY(SELECT d.key FROM contact_deputies cd JOIN contacts d ON d.id = cd.deputy_id
	      WHERE cd.contact_id = c.id ORDER BY cd.position),
	c.notes, c.source, c.external_id, c.created_at, c.updated_at
	FROM contacts c`

func getContact(ctx context.Context, q postgres.Querier, key string) (Contact, error) {
	if !keyPattern.MatchString(key) {
		return Contact{}, notFound("contact", key)
	}
	return getRecord(ctx, q, pgx.RowToStructByPos[Contact], "contact "+key, notFound("contact", key),
		contactSelect+` WHERE c.key = $1`, key)
}

// GetContact returns the contact with key.
func (s *Service) GetContact(ctx context.Context, key string) (Contact, error) {
	return getContact(ctx, s.pool, key)
}

// ContactsByKeys returns the contacts with the given keys, in the order
// given, each once; keys no contact has are left out.
func ContactsByKeys(ctx context.Context, q postgres.Querier, keys []string) ([]Contact, error) {
	rows, err := q.Query(ctx, contactSelect+` WHERE c.key = ANY($1)`, slices.DeleteFunc(slices.Clone(keys),
		func(k string) bool { return !keyPattern.MatchString(k) }))
	if err != nil {
		return nil, fmt.Errorf("look up contacts: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Contact])
	if err != nil {
		return nil, fmt.Errorf("look up contacts: %w", err)
	}
	byKey := make(map[string]Contact, len(found))
	for _, c := range found {
		byKey[c.Key] = c
	}
	out := make([]Contact, 0, len(found))
	for _, k := range keys {
		if c, ok := byKey[k]; ok {
			out = append(out, c)
			delete(byKey, k)
		}
	}
	return out, nil
}

// ListContacts returns contacts ordered by key.
func (s *Service) ListContacts(ctx context.Context, f ContactFilter, page orchestrator.Page) (orchestrator.List[Contact], error) {
	if err := checkList(f.validate(), page); err != nil {
		return orchestrator.List[Contact]{}, err
	}
	const where = ` WHERE ($1 = '' OR strpos(lower(c.key), lower($1)) > 0 OR strpos(lower(c.name), lower($1)) > 0)
		AND ($2 = '' OR lower(c.role) = lower($2)) AND ($3 = '' OR lower(c.organisation) = lower($3))
		AND ($4 = '' OR c.key > $4) ORDER BY c.key LIMIT $5`
	return listRecords(ctx, s.pool, pgx.RowToStructByPos[Contact], "contacts", page.Limit, func(c Contact) string { return c.Key },
		contactSelect+where, f.Query, f.Role, f.Organisation, page.After, page.Limit+1)
}

// CreateContact adds a contact; its deputies must exist.
func (s *Service) CreateContact(ctx context.Context, in ContactInput) (Contact, error) {
	const insert = `INSERT INTO contacts (key, name, role, organisation, phone, email, chat, notes, source, external_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *Contact) error {
		return s.saveContact(ctx, tx, "create", in, out, func() (int64, error) {
			return scanID(tx.QueryRow(ctx, insert, in.Key, in.Name, in.Role, in.Organisation, in.Phone, in.Email, in.Chat,
				in.Notes, in.Source, in.ExternalID), nil)
		})
	})
}

// ReplaceContact overwrites the contact with key; the body may repeat the
// key but not change it. Without source and external_id the contact keeps
// its import identity.
func (s *Service) ReplaceContact(ctx context.Context, key string, in ContactInput) (Contact, error) {
	if err := pathKey(&in.Key, key, "contact"); err != nil {
		return Contact{}, err
	}
	keep := keepIdentity(in.Source, in.ExternalID)
	const update = `UPDATE contacts SET name = $2, role = $3, organisation = $4, phone = $5, email = $6, chat = $7,
		notes = $8, source = CASE WHEN $9 THEN source ELSE $10 END,
		external_id = CASE WHEN $9 THEN external_id ELSE $11 END, updated_at = now()
		WHERE key = $1 RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *Contact) error {
		return s.saveContact(ctx, tx, "update", in, out, func() (int64, error) {
			return scanID(tx.QueryRow(ctx, update, key, in.Name, in.Role, in.Organisation, in.Phone, in.Email, in.Chat,
				in.Notes, keep, in.Source, in.ExternalID), notFound("contact", key))
		})
	})
}

// saveContact resolves the deputies, writes the contact row with write,
// replaces its deputies, records the change and reads the result into out.
func (s *Service) saveContact(ctx context.Context, tx pgx.Tx, action string, in ContactInput, out *Contact, write func() (int64, error)) error {
	var v orchestrator.Validation
	deputies, err := contactIDs(ctx, tx, &v, refs("deputies", in.Deputies))
	if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	id, err := write()
	if err != nil {
		return conflict(err, "contact", map[string]orchestrator.FieldError{
			"contacts_key_key":                taken("key", in.Key),
			"contacts_source_external_id_key": taken("external_id", in.ExternalID),
		})
	}
	if err := replaceList(ctx, tx, "contact_deputies", "contact_id", "deputy_id", id, idList(deputies, in.Deputies)); err != nil {
		return fmt.Errorf("save deputies of %s: %w", in.Key, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{Action: action, Resource: "contacts", ResourceID: in.Key,
		Summary: fmt.Sprintf("contact %q", in.Name)}); err != nil {
		return err
	}
	*out, err = getContact(ctx, tx, in.Key)
	return err
}

// DeleteContact removes a contact no deputy list, call tree or supplier
// names; otherwise it is a conflict that lists who still does.
func (s *Service) DeleteContact(ctx context.Context, key string) error {
	if !keyPattern.MatchString(key) {
		return notFound("contact", key)
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE key = $1 FOR UPDATE`, key).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("contact", key)
		}
		if err != nil {
			return fmt.Errorf("delete contact %s: %w", key, err)
		}
		const users = `SELECT 'contact ' || c.key || ' (as deputy)' FROM contact_deputies cd
				JOIN contacts c ON c.id = cd.contact_id WHERE cd.deputy_id = $1
			UNION ALL (SELECT DISTINCT 'call tree ' || t.key FROM call_tree_contacts m
				JOIN call_trees t ON t.id = m.call_tree_id WHERE m.contact_id = $1)
			UNION ALL SELECT 'supplier ' || s.key FROM supplier_contacts sc
				JOIN suppliers s ON s.id = sc.supplier_id WHERE sc.contact_id = $1
			LIMIT 20`
		if err := inUse(ctx, tx, fmt.Sprintf("contact %q", key), users, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete contact %s: %w", key, refused(err, "contact", key))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "contacts", ResourceID: key, Summary: "deleted"})
	})
}
