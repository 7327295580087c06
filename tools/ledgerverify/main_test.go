package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/blobstore"
	"popsell-gdpr/internal/clocktest"
	"popsell-gdpr/internal/gdpr"
	"popsell-gdpr/internal/ledgerstore"
	"popsell-gdpr/internal/localstore"
	"popsell-gdpr/internal/merkle"
)

// export builds a ledger through the service and exports it: 2026-12-01 with four records,
// 2026-12-02 with none, 2026-12-03 with three, all sealed, and 2026-12-04 with two records
// not sealed yet. It returns the export's lines.
func export(t testing.TB) []string {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := localstore.Open(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	h, err := gdpr.NewHasher("h1", []byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	clock := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	core := gdpr.Core{Brands: db, Hasher: h, Clock: clock}
	brands, err := gdpr.NewBrandService(core, db)
	require.NoError(t, err)
	_, _, err = brands.PutBrand(ctx, "acme", gdpr.BrandSettings{Name: "Acme"})
	require.NoError(t, err)
	ledger, err := gdpr.NewLedgerService(core, ledgerstore.New(blobstore.NewFolder(filepath.Join(dir, "ledger"))))
	require.NoError(t, err)

	appendDay := func(day time.Time, ids ...string) {
		clock.Set(day)
		for _, id := range ids {
			role := gdpr.Role(0)
			require.NoError(t, ledger.Append(ctx, gdpr.ErasureRecord{BrandID: "acme", ID: id, SubjectID: "m_" + id,
				SubjectKind: gdpr.SubjectMember, Role: &role, Rule: "R-ERASE-1", Reason: gdpr.ReasonUnsubscribed,
				RequestedAt: day.Add(-200 * time.Hour), DueAt: day.Add(-time.Hour), DoneAt: day,
				FieldsErased: []string{"firstName"}, FieldsHashed: []string{"email"}}))
		}
	}
	appendDay(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), "er_d", "er_a", "er_c", "er_b")
	appendDay(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), "er_f", "er_e", "er_g")
	require.NoError(t, ledger.Seal(ctx, time.Date(2026, 12, 4, 1, 0, 0, 0, time.UTC)))
	appendDay(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC), "er_h", "er_i")

	var buf bytes.Buffer
	require.NoError(t, ledger.Export(ctx, "acme", &buf))
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func run(lines []string) (string, error) {
	return verify(strings.NewReader(strings.Join(lines, "\n") + "\n"))
}

// find is the index of the line that holds each of the fragments.
func find(t testing.TB, lines []string, fragments ...string) int {
	t.Helper()
	for i, l := range lines {
		if !slices.ContainsFunc(fragments, func(f string) bool { return !strings.Contains(l, f) }) {
			return i
		}
	}
	t.Fatalf("no line holds %q", fragments)
	return -1
}

func TestAnIntactExportVerifies(t *testing.T) {
	lines := export(t)
	sum, err := run(lines)
	require.NoError(t, err)
	require.Equal(t, "verified: brand acme, 3 seals (2026-12-01 to 2026-12-03), 7 sealed records, 2 records not sealed yet", sum)
}

// Each kind of tampering, of a record or of a seal, is found and located: the verifier
// names the first record or seal that differs.
func TestEveryTamperingIsFoundAndLocated(t *testing.T) {
	lines := export(t)
	sealOf := func(day string) int { return find(t, lines, `"type":"seal"`, `"day":"`+day+`"`) }
	recordLine := func(id string) int { return find(t, lines, `"id":"`+id+`"`) }

	cases := []struct {
		name   string
		tamper func(l []string) []string
		want   string
	}{
		{"record altered", func(l []string) []string {
			i := recordLine("er_b")
			l[i] = strings.Replace(l[i], `"contactsErased":0`, `"contactsErased":5`, 1)
			return l
		}, "record er_b of 2026-12-01 altered"},
		{"record removed", func(l []string) []string {
			return slices.Delete(l, recordLine("er_b"), recordLine("er_b")+1)
		}, "record sealed at position 1 of 2026-12-01 removed (after er_a)"},
		{"first record of a day removed", func(l []string) []string {
			return slices.Delete(l, recordLine("er_e"), recordLine("er_e")+1)
		}, "record sealed at position 0 of 2026-12-03 removed (after the day's start)"},
		{"last record of a day removed", func(l []string) []string {
			return slices.Delete(l, recordLine("er_d"), recordLine("er_d")+1)
		}, "record sealed at position 3 of 2026-12-01 removed (after er_c)"},
		{"records reordered", func(l []string) []string {
			i, j := recordLine("er_b"), recordLine("er_c")
			l[i], l[j] = l[j], l[i]
			return l
		}, "record er_b of 2026-12-01 reordered: it is listed after er_c"},
		{"record inserted into a sealed day", func(l []string) []string {
			forged := strings.ReplaceAll(l[recordLine("er_f")], "er_f", "er_ff")
			return slices.Insert(l, recordLine("er_f")+1, forged)
		}, "record er_ff inserted into 2026-12-03"},
		{"record inserted into a sealed day whose seal is past", func(l []string) []string {
			forged := strings.ReplaceAll(l[recordLine("er_h")], "er_h", "er_z")
			forged = strings.Replace(forged, `"day":"2026-12-04"`, `"day":"2026-12-03"`, 1)
			return append(l, forged)
		}, "record er_z inserted into sealed day 2026-12-03"},
		{"record of another brand inserted", func(l []string) []string {
			forged := strings.ReplaceAll(l[recordLine("er_g")], `"brandId":"acme"`, `"brandId":"other"`)
			return slices.Insert(l, recordLine("er_g"), forged)
		}, "record er_g of 2026-12-03 inserted: it is another brand's"},
		{"seal root altered", func(l []string) []string {
			i := sealOf("2026-12-03")
			var s gdpr.ExportLine
			require.NoError(t, json.Unmarshal([]byte(l[i]), &s))
			l[i] = strings.Replace(l[i], s.Root, merkle.LeafHash([]byte("x")).String(), 1)
			return l
		}, "seal of 2026-12-03 altered: its root is not the root of its leaves"},
		{"seal count altered", func(l []string) []string {
			i := sealOf("2026-12-01")
			l[i] = strings.Replace(l[i], `"count":4`, `"count":3`, 1)
			return l
		}, "seal of 2026-12-01 altered: its count is not its number of leaves"},
		{"seal and record rewritten together, root recomputed", func(l []string) []string {
			i := recordLine("er_b")
			l[i] = strings.Replace(l[i], `"contactsErased":0`, `"contactsErased":5`, 1)
			var rec struct {
				Record json.RawMessage `json:"record"`
			}
			require.NoError(t, json.Unmarshal([]byte(l[i]), &rec))
			j := sealOf("2026-12-01")
			var s gdpr.ExportLine
			require.NoError(t, json.Unmarshal([]byte(l[j]), &s))
			leaves := make([]merkle.Hash, len(s.Leaves))
			for k, h := range s.Leaves {
				leaves[k], _ = merkle.ParseHash(h)
			}
			leaves[1] = merkle.LeafHash(rec.Record)
			s.Leaves[1], s.Root = leaves[1].String(), merkle.Root(leaves).String()
			forged, err := json.Marshal(s)
			require.NoError(t, err)
			l[j] = string(forged)
			return l
		}, "seal of 2026-12-01 altered or replaced: the seal of 2026-12-02 chains to another root"},
		{"empty day's seal removed", func(l []string) []string {
			return slices.Delete(l, sealOf("2026-12-02"), sealOf("2026-12-02")+1)
		}, "seal of 2026-12-02 removed: the seal of the next day follows 2026-12-01's"},
		{"seal of a day with records removed", func(l []string) []string {
			return slices.Delete(l, sealOf("2026-12-01"), sealOf("2026-12-01")+1)
		}, "seal of 2026-12-01 removed: its records are listed, a later day is sealed"},
		{"first seal removed with its records", func(l []string) []string {
			return slices.Delete(l, recordLine("er_a"), sealOf("2026-12-01")+1)
		}, "seal of 2026-12-02: seals before it were removed (its previous root is not the first seal's)"},
		{"seals reordered", func(l []string) []string {
			i, j := sealOf("2026-12-02"), sealOf("2026-12-03")
			block := slices.Clone(l[i+1 : j+1]) // 12-03's records and seal
			l = slices.Delete(l, i+1, j+1)
			return slices.Insert(l, i, block...)
		}, "seals reordered: 2026-12-02 comes after 2026-12-03"},
		{"seal inserted", func(l []string) []string {
			i := sealOf("2026-12-02")
			return slices.Insert(l, i+1, l[i])
		}, "seal of 2026-12-02 inserted: a second seal of that day"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(c.tamper(slices.Clone(lines)))
			var found *tampered
			require.ErrorAs(t, err, &found)
			require.Equal(t, c.want, found.Error())
		})
	}
}

func TestNotAnExport(t *testing.T) {
	for _, in := range []string{"", "not json", `{"type":"seal"}`, `{"type":"ledger","format":"other/1","brandId":"a"}`,
		`{"type":"ledger","format":"popsell-ledger/1","brandId":"a"}` + "\n" + `{"type":"entry","day":"yesterday"}`} {
		_, err := verify(strings.NewReader(in))
		require.Error(t, err)
		var found *tampered
		require.False(t, errors.As(err, &found), "a malformed input is not a finding: %v", err)
	}
}
