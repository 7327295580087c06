package datamapdocs

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"popsell-gdpr/internal/gdpr"
)

// Record writes the record of processing activities (GDPR Art. 30(1) and (2)) of the
// service: what the data map says, and, stated once here, what no field can say (who
// receives the data, where it goes, how it is protected).
func Record(tables []gdpr.DataTable, defaults gdpr.Retention) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Record of processing activities (GDPR Art. 30)\n\n")
	p("<!-- %s -->\n\n", generatedNote)
	p("The processing of personal data by popsell-gdpr, the data-protection backend of the Popsell\n")
	p("social-selling platform. Field by field, this record is the data map of the code\n")
	p("(`internal/gdpr/datamap.go`, served at `GET /api/admin/datamap`); the same map is imported\n")
	p("into Ethyca Fides as [`datamap/popsell.fides.yml`](datamap/popsell.fides.yml). Rule ids\n")
	p("(`R-ERASE-1`, …) are those of [the rules catalogue](rules.md).\n\n")

	p("## Controller and processor\n\n")
	p("Popsell runs the platform as a software-as-a-service provider for Brands (tenants), each a\n")
	p("white-label programme. The Data Protection Guide gives each Brand its own data controller\n")
	p("and Popsell a Chief Data Officer: both must authorise any export of personal data out of the\n")
	p("platform (R-ACCESS-3), and Popsell answers the requests of data subjects (R-RIGHTS-1). The\n")
	p("contracts between Popsell and each Brand fix the legal roles (controller, processor) and\n")
	p("name the contacts of the controller and of the data-protection officer, which this record\n")
	p("does not hold.\n\n")

	p("## Categories of data subjects\n\n")
	p("| kind | who | stored in | fields |\n|---|---|---|---|\n")
	for _, t := range tables {
		if t.Subject {
			p("| %s | %s | `%s` | %d |\n", t.Kind, t.Description, t.Collection, len(t.Fields))
		}
	}
	p("\nOther tables hold no subject's own record; their fields are classified below too:\n\n")
	for _, t := range tables {
		if !t.Subject {
			p("- `%s`: %s\n", t.Collection, t.Description)
		}
	}

	p("\n## Purposes\n\n| purpose | why | fields |\n|---|---|---|\n")
	for _, pur := range gdpr.Purposes {
		p("| %s | %s | %d |\n", pur.Purpose, pur.Description, countPurpose(tables, pur.Purpose))
	}

	p("\n## Categories of personal data\n\n")
	p("Data categories of the fideslang taxonomy (Ethyca Fides' default taxonomy), per subject kind.\n\n")
	p("| kind | category | fields |\n|---|---|---|\n")
	for _, t := range tables {
		if !t.Subject {
			continue
		}
		byCategory := map[string][]string{}
		var cats []string
		for _, f := range t.Fields {
			if _, ok := byCategory[f.Category]; !ok {
				cats = append(cats, f.Category)
			}
			byCategory[f.Category] = append(byCategory[f.Category], "`"+f.Path+"`")
		}
		slices.Sort(cats)
		for _, c := range cats {
			p("| %s | `%s` (%s) | %s |\n", t.Kind, c, gdpr.DataMapCategories[c], strings.Join(byCategory[c], ", "))
		}
	}

	p("\n## Recipients\n\n")
	p("- **The Brand's users** (the Popsell Manager): members' data as the Brand's configuration\n")
	p("  shows it; contacts only with a Brand opt-in, never one without (R-ACCESS-1).\n")
	p("- **Members**: their own contacts only (R-ACCESS-2); an opted-out address is hidden\n")
	p("  (R-RET-7), a sale shows its date and amount only (R-CONSENT-8).\n")
	p("- **Mailjet** (processor, mail delivery): the address, the name and the text of each mail\n")
	p("  sent; it reports deliveries, bounces and complaints back (R-MAIL-1…5). Its IP, geo and\n")
	p("  user-agent fields are never even decoded (R-DATA-4).\n")
	p("- **Microsoft Azure** (processor, hosting): Cosmos DB, Blob Storage, Service Bus, Key Vault,\n")
	p("  Functions and Application Insights, whose logs carry no personal data (R-OPS-1).\n")
	p("- **The data warehouse** (Popsell's, in the same data centres): the daily export, as the\n")
	p("  `warehouse` column below says (R-DWH-1…3); not built yet.\n")
	p("- **The Brand's systems** send data in (SSO, SCIM, orders, contact synchronisation); nothing\n")
	p("  goes back to them but answers to their own calls.\n\n")

	p("## Transfers to third countries\n\n")
	p("None by this service: every Azure resource is in the EU, West Europe (the Netherlands)\n")
	p("with its replica in North Europe (Ireland), and an \"Allowed locations\" policy on the\n")
	p("resource group refuses any other region (R-OPS-2). Where Mailjet processes the mail it\n")
	p("sends is fixed by its data-processing agreement, which this repository cannot check.\n\n")

	p("## Retention\n\n")
	p("Every duration is a per-Brand setting with the guide's default; a Brand may shorten it,\n")
	p("never lengthen it past %s (R-TEN-2).\n\n", gdpr.MaxRetention)
	p("| setting | rule | default |\n|---|---|---|\n")
	for _, d := range durations(defaults) {
		rule, ok := retentionRules[d[0]]
		if !ok {
			panic(fmt.Sprintf("gdpr.Retention.%s has no rule in datamapdocs.retentionRules", d[0]))
		}
		p("| `%s` | %s | %s |\n", d[0], rule, d[1])
	}
	p("\nA subject is erased under these rules:\n\n")
	for _, t := range tables {
		if t.Subject {
			p("- %s: %s\n", t.Kind, strings.Join(t.ErasedUnder, ", "))
		}
	}
	p("\nErasure is field by field (the tables below): it empties, hashes or keeps each field;\n")
	p("the record itself stays, soft-deleted, so that statistics and opt-outs keep working\n")
	p("(R-DATA-5). Each field's `retention` names the rule that ends its value's life; `R-DATA-5`\n")
	p("marks a value kept with the soft-deleted record.\n\n")

	p("## Security measures\n\n")
	p("- Digests are HMAC-SHA-256 with a per-deployment key held in Key Vault, never beside the\n")
	p("  data (R-ERASE-4); passwords are bcrypt hashes (R-SIGNUP-3); single-use links are stored\n")
	p("  as digests only (R-SIGNUP-2).\n")
	p("- Every Azure connection uses a managed identity with data-plane roles only; local and\n")
	p("  shared-key authentication are off; TLS 1.2 at least; secrets in Key Vault (R-OPS-5).\n")
	p("- Data is partitioned by Brand; no request reads another Brand's data (R-TEN-1).\n")
	p("- Logs hold no email, name, token or IP address and are kept one year (R-OPS-1).\n")
	p("- Erased means gone: no byte of an erased value stays in the embedded store's files,\n")
	p("  write-ahead log or outbox; queues carry ids only; each erasure leaves an audit record\n")
	p("  without personal data (R-ERASE-9).\n")
	p("- Continuous backup of Cosmos DB, 30 days at any second (R-OPS-3); a restored backup\n")
	p("  replays the erasures recorded since.\n\n")

	p("## Counts\n\n")
	p("Fields per table per erasure action: on deletion (role 0 for members, roles 7 and 8 for\n")
	p("external users), under contract (roles 1–6), at the end of the Brand's contract.\n\n")
	actions := []gdpr.FieldAction{gdpr.FieldKeep, gdpr.FieldErase, gdpr.FieldHash, gdpr.FieldDelete,
		gdpr.FieldYearOnly, gdpr.FieldDeleteUnlessContest, gdpr.FieldMark}
	p("| table | column | fields |")
	for _, a := range actions {
		p(" %s |", a)
	}
	p("\n|---|---|---|%s\n", strings.Repeat("---|", len(actions)))
	for _, t := range tables {
		c := gdpr.CountActions(t)
		cols := []struct {
			name   string
			counts map[gdpr.FieldAction]int
		}{{"on deletion", c.OnDeletion}, {"under contract", c.UnderContract}, {"at contract end", c.AtContractEnd}}
		for _, col := range cols {
			if len(col.counts) == 0 {
				continue
			}
			p("| %s | %s | %d |", t.Kind, col.name, len(t.Fields))
			for _, a := range actions {
				p(" %d |", col.counts[a])
			}
			p("\n")
		}
	}

	p("\n## The data map\n\n")
	p("Erasure actions: `keep`; `erase` (emptied); `hash` (replaced by its keyed digest `h1:…`);\n")
	p("`delete` (the file it names deleted, the field emptied; for claims, the document released);\n")
	p("`year_only` (day and month erased); `delete_unless_contest` (deleted unless collected under\n")
	p("a contest, then kept until the contest's keep-until date, R-ERASE-2); `mark` (the erasure's\n")
	p("own record on the subject, never personal). `export`: carried by a subject access export\n")
	p("(R-RIGHTS-1, not built yet). `warehouse`: `omit`, `keep` or `anonymise` (R-DWH-1, R-DWH-2).\n")
	for _, t := range tables {
		p("\n### %s (`%s`)\n\n%s\n\n", t.Kind, t.Collection, t.Description)
		p("| field | category | erasure | export | warehouse | retention | purpose |\n|---|---|---|---|---|---|---|\n")
		for _, f := range t.Fields {
			p("| `%s` | `%s` | %s | %s | %s | %s | %s |\n", f.Path, f.Category, erasureText(t, f.Erasure),
				yesNo(f.Export), f.Warehouse, f.Retention, f.Purpose)
		}
	}
	return b.Bytes()
}

func countPurpose(tables []gdpr.DataTable, p gdpr.Purpose) int {
	n := 0
	for _, t := range tables {
		for _, f := range t.Fields {
			if f.Purpose == p {
				n++
			}
		}
	}
	return n
}
