package docs

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The catalogue defines a rule by a heading of its own: "### R-ERASE-7", or "### R-ROLE".
var definition = regexp.MustCompile(`^### (R-[A-Z]+(?:-[0-9]+)?)\s*$`)

// catalogue reads the ids docs/rules.md defines, failing on one defined twice.
func catalogue(t *testing.T) (ids map[string]bool, families map[string]bool) {
	t.Helper()
	f, err := os.Open("rules.md")
	if err != nil {
		t.Fatalf("the rules catalogue: %v", err)
	}
	defer f.Close()
	ids, families = map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		m := definition.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if ids[m[1]] {
			t.Errorf("docs/rules.md:%d: %s is defined twice", n, m[1])
		}
		ids[m[1]] = true
		families[strings.SplitN(m[1], "-", 3)[1]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		t.Fatal("docs/rules.md defines no rule")
	}
	return ids, families
}

// TestCatalogueDefinesEveryRule: every rule of the product's requirements, numbered as they
// are, is in the catalogue, and no other.
func TestCatalogueDefinesEveryRule(t *testing.T) {
	ids, _ := catalogue(t)
	want := map[string]bool{"R-ROLE": true}
	for family, n := range map[string]int{"TEN": 2, "SIGNUP": 8, "SSO": 3, "MAIL": 5, "DATA": 5,
		"ERASE": 9, "RET": 9, "CONSENT": 8, "ACCESS": 3, "DWH": 3, "RIGHTS": 1, "OPS": 5} {
		for i := 1; i <= n; i++ {
			want[fmt.Sprintf("R-%s-%d", family, i)] = true
		}
	}
	for id := range want {
		if !ids[id] {
			t.Errorf("docs/rules.md does not define %s", id)
		}
	}
	for id := range ids {
		if !want[id] {
			t.Errorf("docs/rules.md defines %s, which is no rule of the requirements", id)
		}
	}
}

// TestEveryRuleSaysWhereItApplies: each rule's section names where the product applies it
// (or that it is not built yet), so a rule can be traced to its code and test.
func TestEveryRuleSaysWhereItApplies(t *testing.T) {
	b, err := os.ReadFile("rules.md")
	if err != nil {
		t.Fatal(err)
	}
	var id string
	where := map[string]bool{}
	for line := range strings.Lines(string(b)) {
		if m := definition.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			id = m[1]
			where[id] = false
			continue
		}
		if strings.HasPrefix(line, "## ") {
			id = ""
		}
		if id != "" && strings.Contains(line, "Where:") {
			where[id] = true
		}
	}
	for id, ok := range where {
		if !ok {
			t.Errorf("docs/rules.md: %s says nowhere where the product applies it", id)
		}
	}
}

// A citation of a rule, in the forms the code and the tests write it:
//   - "R-ERASE-7", with its continuations "R-ERASE-1/2/3", "R-MAIL-1, -2, -3", "R-RET-3…8"
//     (also "..." and "–");
//   - "R_MAIL_1" in Go identifiers, "R_MAIL_1_5" citing 1 and 5;
//   - "TestRRet5…", "TestRConsent1And2…" in camel case (families of the catalogue only);
//   - "R-ROLE", "R-ERASE" alone: the rule or the family must exist.
//
// The letter before a citation is not a capital or a digit, so "CUST-NEVER-USED-41" cites
// nothing, while "requireErasedPerR_ERASE_1" does.
var (
	cited     = regexp.MustCompile(`(?:^|[^A-Z0-9])R([-_])([A-Z]{2,})(?:([-_])([0-9]+))?`)
	dashCont  = regexp.MustCompile(`^(?:\s*(…|\.\.\.|–)\s*|/|,\s*-)([0-9]+)`)
	underCont = regexp.MustCompile(`^_([0-9]+)`)
	camelCont = regexp.MustCompile(`^And([0-9]+)`)
)

type citation struct {
	id   string
	line int
}

// citations finds the rule ids a text cites, with their line numbers. camel is the pattern of
// the camel-case form, built from the catalogue's families.
func citations(text string, camel *regexp.Regexp) []citation {
	var out []citation
	n := 0
	for line := range strings.Lines(text) {
		n++
		for _, loc := range cited.FindAllStringSubmatchIndex(line, -1) {
			sep, family := line[loc[2]:loc[3]], line[loc[4]:loc[5]]
			if loc[8] < 0 || line[loc[6]:loc[7]] != sep {
				if sep == "-" { // "R-ROLE", "R-ROLE_0_ambassador", "R-MAIL family"
					out = append(out, citation{"R-" + family, n})
				}
				continue
			}
			first, _ := strconv.Atoi(line[loc[8]:loc[9]])
			cont := underCont
			if sep == "-" {
				cont = dashCont
			}
			for _, num := range numbers(first, line[loc[9]:], cont) {
				out = append(out, citation{fmt.Sprintf("R-%s-%d", family, num), n})
			}
		}
		for _, loc := range camel.FindAllStringSubmatchIndex(line, -1) {
			family := strings.ToUpper(line[loc[2]:loc[3]])
			first, _ := strconv.Atoi(line[loc[4]:loc[5]])
			for _, num := range numbers(first, line[loc[5]:], camelCont) {
				out = append(out, citation{fmt.Sprintf("R-%s-%d", family, num), n})
			}
		}
	}
	return out
}

// numbers expands a citation's first number and the continuations that follow it: a range
// ("…8") gives every number up to its end, a list ("/2", ", -3", "_5", "And2") each one.
func numbers(first int, rest string, cont *regexp.Regexp) []int {
	out := []int{first}
	for {
		m := cont.FindStringSubmatchIndex(rest)
		if m == nil {
			return out
		}
		num, _ := strconv.Atoi(rest[m[len(m)-2]:m[len(m)-1]])
		last := out[len(out)-1]
		if len(m) == 6 && m[2] >= 0 && num > last && num-last <= 50 { // a range
			for i := last + 1; i <= num; i++ {
				out = append(out, i)
			}
		} else {
			out = append(out, num)
		}
		rest = rest[m[1]:]
	}
}

// camelPattern matches "RRet5", "RConsent1" for the catalogue's families.
func camelPattern(families map[string]bool) *regexp.Regexp {
	var names []string
	for f := range families {
		r := []rune(strings.ToLower(f))
		r[0] = unicode.ToUpper(r[0])
		names = append(names, string(r))
	}
	slices.Sort(names)
	return regexp.MustCompile(`(?:^|[^A-Z0-9])R(` + strings.Join(names, "|") + `)([0-9]+)`)
}

// sources walks the repository for its Go files and READMEs, leaving out hidden folders
// (.git, the local data folder) and the files of other modules' testdata.
func sources(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != ".." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") || d.Name() == "README.md" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d Go files and READMEs: is the test running in docs/?", len(files))
	}
	return files
}

// rel names a file from the repository's root, as a failure message should.
func rel(path string) string {
	r, err := filepath.Rel("..", path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// TestEveryCitedRuleIsInTheCatalogue: every rule id a Go file or a README cites, in a comment,
// a test name or a string, is defined in docs/rules.md.
func TestEveryCitedRuleIsInTheCatalogue(t *testing.T) {
	ids, families := catalogue(t)
	camel := camelPattern(families)
	seen := 0
	for _, path := range sources(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range citations(string(b), camel) {
			seen++
			_, family, _ := strings.Cut(c.id, "-")
			if ids[c.id] || (!strings.Contains(family, "-") && families[family]) {
				continue
			}
			t.Errorf("%s:%d: cites %s, which docs/rules.md does not define", rel(path), c.line, c.id)
		}
	}
	if seen < 100 {
		t.Errorf("only %d citations found: the patterns no longer match how the code cites rules", seen)
	}
}

// TestCitationForms: the forms the code writes are read as the rules they cite, and what only
// looks like one is not.
func TestCitationForms(t *testing.T) {
	camel := camelPattern(map[string]bool{"RET": true, "CONSENT": true})
	for text, want := range map[string][]string{
		"// R-ERASE-7: every contact":                      {"R-ERASE-7"},
		"R-ERASE-1/2/3":                                    {"R-ERASE-1", "R-ERASE-2", "R-ERASE-3"},
		"(R-MAIL-1, -2, -3)":                               {"R-MAIL-1", "R-MAIL-2", "R-MAIL-3"},
		"R-RET-3…8":                                        {"R-RET-3", "R-RET-4", "R-RET-5", "R-RET-6", "R-RET-7", "R-RET-8"},
		"R-SSO-1...2":                                      {"R-SSO-1", "R-SSO-2"},
		`t.Run("R-SIGNUP-2_24_bytes"`:                      {"R-SIGNUP-2"},
		`t.Run("R-ROLE_0_ambassador"`:                      {"R-ROLE"},
		"func TestEvent_R_MAIL_1_2_permanentOrSoft(":       {"R-MAIL-1", "R-MAIL-2"},
		"requireErasedPerR_ERASE_1(t":                      {"R-ERASE-1"},
		"TestRRet5InvitationRemindedThenExpiredThenRRet7(": {"R-RET-5", "R-RET-7"},
		"TestRConsent1And2SnakeCaseJSONNames":              {"R-CONSENT-1", "R-CONSENT-2"},
		"TestRConsentHistoryIsBounded":                     nil,
		`"CUST-NEVER-USED-41"`:                             nil,
		"unix.R_OK, PR_SET_X, R-2":                         nil,
		"RRetry3 TestRData4":                               nil, // not a family of this catalogue
	} {
		var got []string
		for _, c := range citations(text, camel) {
			got = append(got, c.id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q cites %q, want %q", text, got, want)
		}
	}
}

// outside is a citation of a document outside the repository: a section of the design
// document, or a path into the shared folder beside the repository. The code cites rule
// ids from docs/rules.md instead.
var outside = regexp.MustCompile(`DESIGN\s*§|(?:\.\./)+shared\b|\bshared/spec/`)

// outsideToday lists the only references to documents outside the repository, as lines per
// file: none cites a DESIGN section or the shared rules any more. They may go, never grow; a
// new one fails.
var outsideToday = map[string]int{
	// Where the Mailjet wire fixtures were copied from.
	"internal/mailjet/fixtures_test.go": 1,
	// Not citations but a path the infra checks read: the Azure resource schemas laid
	// beside the repository by CI (README, "Infrastructure").
	"infra/doc.go":         1,
	"infra/infra_test.go":  1,
	"infra/schema_test.go": 2,
}

// TestNoCitationOfOutsideDocuments: no Go file cites a DESIGN section or a path into
// ../shared beyond the allow-list of today's occurrences.
func TestNoCitationOfOutsideDocuments(t *testing.T) {
	for _, path := range sources(t) {
		if !strings.HasSuffix(path, ".go") || rel(path) == "docs/rules_test.go" { // names the patterns
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []int
		n := 0
		for line := range strings.Lines(string(b)) {
			n++
			if outside.MatchString(line) {
				lines = append(lines, n)
			}
		}
		if allowed := outsideToday[rel(path)]; len(lines) > allowed {
			for _, l := range lines {
				t.Errorf("%s:%d: cites a document outside the repository (a DESIGN section or ../shared); cite a rule id of docs/rules.md or say it in the code's own words", rel(path), l)
			}
		}
	}
}
