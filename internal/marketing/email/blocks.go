package email

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ryorin/ryorin/internal/errs"
)

// Block types of a block document.
const (
	BlockText    = "text"
	BlockHeading = "heading"
	BlockImage   = "image"
	BlockButton  = "button"
	BlockDivider = "divider"
	BlockSpacer  = "spacer"
	BlockColumns = "columns"
	BlockVariant = "variant"
	BlockContent = "content"
)

// Variant selectors: what picks a variant block's option per recipient.
const (
	VariantBySegment  = "segment"
	VariantByInterest = "interest"
)

// Bounds of a block document. Nesting is bounded so a hostile document
// cannot make compiling (or the rendered table layout) explode.
const (
	maxBlocks     = 200
	maxDepth      = 4
	maxTextLen    = 20000
	maxShortLen   = 500
	maxURLLen     = 2000
	maxSpacer     = 120
	maxColumns    = 3
	maxVariantOpt = 20
)

// BlockDoc is an email composed of blocks instead of raw HTML. It is
// compiled into the Template's HTML and plain-text parts (CompileBlocks), so
// a block email is personalised, tracked and sent like any other.
type BlockDoc struct {
	Blocks []Block `json:"blocks"`
}

// Block is one block; which fields count depends on Type.
type Block struct {
	Type string `json:"type"`
	// Text is a text block's paragraphs (separated by blank lines) or a
	// heading's line. Merge fields: {{FamilyName}}, {{GivenName|皆様}}.
	Text string `json:"text,omitempty"`
	// URL is an image's source or a button's target.
	URL   string `json:"url,omitempty"`
	Alt   string `json:"alt,omitempty"`
	Link  string `json:"link,omitempty"`
	Label string `json:"label,omitempty"`
	// AssetID is a content block's content-library asset: shown as a card
	// (kind, title, description, and a button labelled Label) whose link is
	// the recipient's own tracked share link.
	AssetID int64 `json:"asset_id,omitempty"`
	// Height is a spacer's height in pixels.
	Height int `json:"height,omitempty"`
	// Columns are a columns block's two or three lists of blocks.
	Columns [][]Block `json:"columns,omitempty"`
	// By, Options and Default make a variant block: the first option whose
	// segment the recipient is in (By segment) or whose topic is the
	// recipient's top interest (By interest), else Default.
	By      string          `json:"by,omitempty"`
	Options []VariantOption `json:"options,omitempty"`
	Default []Block         `json:"default,omitempty"`
}

// VariantOption is one alternative of a variant block.
type VariantOption struct {
	SegmentID int64   `json:"segment_id,omitempty"`
	Topic     string  `json:"topic,omitempty"`
	Blocks    []Block `json:"blocks"`
}

// mergeFields are the Fields a block's text may name.
var mergeFields = []string{"Salutation", "FamilyName", "GivenName", "Company", "Title", "Department", "Email"}

// mergeRe finds {{Field}} and {{Field|fallback}} in block text.
var mergeRe = regexp.MustCompile(`\{\{\s*([A-Za-z]+)\s*(?:\|([^{}]*))?\}\}`)

// ParseBlocks decodes and validates a block document. An error is Invalid
// and names the failing place, e.g. blocks[2].columns[1][0].url.
func ParseBlocks(src []byte) (BlockDoc, error) {
	var d BlockDoc
	if len(src) > MaxTemplate {
		return d, errs.Field("blocks", "is longer than %d bytes", MaxTemplate)
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, errs.Field("blocks", "is not a valid block document: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return d, errs.Field("blocks", "is not a valid block document: data after the document")
	}
	if len(d.Blocks) == 0 {
		return d, errs.Field("blocks", "needs at least one block")
	}
	n := 0
	if err := checkBlocks(d.Blocks, "blocks", 0, &n); err != nil {
		return d, err
	}
	return d, nil
}

func checkBlocks(bs []Block, path string, depth int, n *int) error {
	if depth >= maxDepth {
		return errs.Field(path, "is nested too deeply (at most %d levels)", maxDepth)
	}
	for i := range bs {
		*n++
		if *n > maxBlocks {
			return errs.Field(path, "too many blocks (at most %d)", maxBlocks)
		}
		if err := checkBlock(&bs[i], fmt.Sprintf("%s[%d]", path, i), depth, n); err != nil {
			return err
		}
	}
	return nil
}

func checkBlock(b *Block, p string, depth int, n *int) error {
	switch b.Type {
	case BlockText, BlockHeading:
		limit := maxTextLen
		if b.Type == BlockHeading {
			limit = maxShortLen
		}
		if strings.TrimSpace(b.Text) == "" {
			return errs.Field(p+".text", "is required")
		}
		if err := checkText(b.Text, p+".text", limit, true); err != nil {
			return err
		}
	case BlockImage:
		if err := checkURL(b.URL, p+".url", true, false); err != nil {
			return err
		}
		if strings.TrimSpace(b.Alt) == "" {
			return errs.Field(p+".alt", "is required: say what the image shows")
		}
		if err := checkText(b.Alt, p+".alt", maxShortLen, false); err != nil {
			return err
		}
		if err := checkURL(b.Link, p+".link", false, true); err != nil {
			return err
		}
	case BlockButton:
		if err := checkText(b.Label, p+".label", maxShortLen, true); err != nil {
			return err
		}
		if err := checkURL(b.URL, p+".url", true, true); err != nil {
			return err
		}
	case BlockContent:
		if b.AssetID <= 0 {
			return errs.Field(p+".asset_id", "choose a content item")
		}
		if err := checkText(b.Label, p+".label", maxShortLen, true); err != nil {
			return err
		}
	case BlockDivider:
	case BlockSpacer:
		if b.Height < 0 || b.Height > maxSpacer {
			return errs.Field(p+".height", "must be 0 to %d pixels", maxSpacer)
		}
	case BlockColumns:
		if len(b.Columns) < 2 || len(b.Columns) > maxColumns {
			return errs.Field(p+".columns", "must be two or three columns")
		}
		for i, col := range b.Columns {
			if err := checkBlocks(col, fmt.Sprintf("%s.columns[%d]", p, i), depth+1, n); err != nil {
				return err
			}
		}
	case BlockVariant:
		if b.By != VariantBySegment && b.By != VariantByInterest {
			return errs.Field(p+".by", "must be segment or interest")
		}
		if len(b.Options) == 0 || len(b.Options) > maxVariantOpt {
			return errs.Field(p+".options", "needs 1 to %d options", maxVariantOpt)
		}
		for i, o := range b.Options {
			op := fmt.Sprintf("%s.options[%d]", p, i)
			if b.By == VariantBySegment && o.SegmentID <= 0 {
				return errs.Field(op+".segment_id", "choose a segment")
			}
			if b.By == VariantByInterest {
				if strings.TrimSpace(o.Topic) == "" {
					return errs.Field(op+".topic", "choose a topic")
				}
				if err := checkText(o.Topic, op+".topic", 100, false); err != nil {
					return err
				}
			}
			if err := checkBlocks(o.Blocks, op+".blocks", depth+1, n); err != nil {
				return err
			}
		}
		if err := checkBlocks(b.Default, p+".default", depth+1, n); err != nil {
			return err
		}
	case "":
		return errs.Field(p+".type", "is required")
	default:
		return errs.Field(p+".type", "unknown block type %q", b.Type)
	}
	return nil
}

// checkText bounds a text and, when merge is true, checks the merge fields
// it names.
func checkText(s, path string, limit int, merge bool) error {
	if len(s) > limit {
		return errs.Field(path, "is longer than %d bytes", limit)
	}
	if !utf8.ValidString(s) {
		return errs.Field(path, "is not valid UTF-8")
	}
	if !merge {
		return nil
	}
	for _, m := range mergeRe.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(mergeFields, m[1]) {
			return errs.Field(path, "unknown merge field {{%s}}: use one of %s", m[1], strings.Join(mergeFields, ", "))
		}
	}
	return nil
}

// checkURL allows only absolute http and https links (and mailto where
// mail makes sense); javascript:, data: and relative URLs are refused.
func checkURL(s, path string, required, mailto bool) error {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return errs.Field(path, "is required")
		}
		return nil
	}
	if len(s) > maxURLLen {
		return errs.Field(path, "is longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || strings.ContainsAny(s, " \t\r\n\"<>\\`") {
		return errs.Field(path, "is not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return errs.Field(path, "is not a valid URL")
		}
		return nil
	case "mailto":
		if mailto && u.Opaque != "" {
			return nil
		}
	}
	if mailto {
		return errs.Field(path, "must be an http, https or mailto URL")
	}
	return errs.Field(path, "must be an http or https URL")
}

// Needs says what a send must load per recipient for this document's variant
// blocks: the segments it asks about and whether it asks for the top interest.
func (d BlockDoc) Needs() (segmentIDs []int64, interest bool) {
	var walk func([]Block)
	walk = func(bs []Block) {
		for _, b := range bs {
			for _, c := range b.Columns {
				walk(c)
			}
			if b.Type == BlockVariant {
				for _, o := range b.Options {
					if b.By == VariantBySegment && !slices.Contains(segmentIDs, o.SegmentID) {
						segmentIDs = append(segmentIDs, o.SegmentID)
					}
					walk(o.Blocks)
				}
				interest = interest || b.By == VariantByInterest
				walk(b.Default)
			}
		}
	}
	walk(d.Blocks)
	return segmentIDs, interest
}

// Assets lists the content-library assets the document's content blocks
// show, each once.
func (d BlockDoc) Assets() []int64 {
	var ids []int64
	walkBlocks(d.Blocks, "blocks", func(b Block, _ string) {
		if b.Type == BlockContent && !slices.Contains(ids, b.AssetID) {
			ids = append(ids, b.AssetID)
		}
	})
	return ids
}

// walkBlocks calls fn for every block, nested ones included, with its path
// (blocks[1].columns[0][2]).
func walkBlocks(bs []Block, path string, fn func(b Block, path string)) {
	for i, b := range bs {
		p := fmt.Sprintf("%s[%d]", path, i)
		fn(b, p)
		for j, col := range b.Columns {
			walkBlocks(col, fmt.Sprintf("%s.columns[%d]", p, j), fn)
		}
		for j, o := range b.Options {
			walkBlocks(o.Blocks, fmt.Sprintf("%s.options[%d].blocks", p, j), fn)
		}
		walkBlocks(b.Default, p+".default", fn)
	}
}
