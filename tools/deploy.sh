#!/usr/bin/env bash
# Deploy popsell-gdpr to Azure: infra/main.bicep into a resource group, then the package
# (`make package`) to the function app it creates. `make deploy` runs this after packaging.
#
#   tools/deploy.sh [--resource-group NAME] [--location REGION] [--secondary-location REGION]
#                   [--package ZIP] --mail-from ADDRESS [--parameters FILE] [--dry-run]
#
# Settings may also come from the environment: POPSELL_RESOURCE_GROUP (default popsell-gdpr),
# POPSELL_LOCATION (default westeurope), POPSELL_SECONDARY_LOCATION, POPSELL_MAIL_FROM
# (required), GDPR_HASH_KEY_ID, GDPR_HASH_KEYS_RETIRED (README "Rotating the hash key").
#
# Regions (R-OPS-2): the primary region holds everything; the secondary one is Cosmos DB's
# failover region and must differ from it. It defaults to the other of West and North Europe
# (a region pair); any other primary region needs it named. The resource group's "Allowed
# locations" policy accepts these two regions and no other.
#
# Secrets come from the environment only, never from arguments (which other users can read):
# GDPR_HASH_KEY, GDPR_HASH_KEYS (the older key versions, at a rotation), POPSELL_ADMIN_TOKEN,
# MJ_APIKEY_PUBLIC, MJ_APIKEY_PRIVATE. Each one given is
# written to Key Vault; one not given keeps its current value there. Before deploying, the
# script asks Azure which secrets the vault holds: each one it lacks (first deployment, or a
# retry of one that failed part-way) must be given, except the hash key, which is generated
# with openssl when the vault lacks it and is never generated over an existing one.
#
# --dry-run prints the commands instead of running them (secrets are never printed) and asks
# Azure nothing; it is the default when the Azure CLI is not installed. Needs: az (logged in,
# with Bicep), python3, openssl.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESOURCE_GROUP=${POPSELL_RESOURCE_GROUP:-popsell-gdpr}
LOCATION=${POPSELL_LOCATION:-westeurope}
SECONDARY_LOCATION=${POPSELL_SECONDARY_LOCATION:-}
MAIL_FROM=${POPSELL_MAIL_FROM:-}
PACKAGE=popsell-gdpr.zip
EXTRA_PARAMETERS=
DEPLOYMENT=popsell-gdpr
DRY_RUN=

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

while (($#)); do
  case $1 in
  --resource-group | --location | --secondary-location | --package | --mail-from | --parameters)
    if (($# < 2)); then echo "deploy: $1 needs a value" >&2; exit 2; fi ;;
  esac
  case $1 in
  --resource-group) RESOURCE_GROUP=$2; shift 2 ;;
  --location) LOCATION=$2; shift 2 ;;
  --secondary-location) SECONDARY_LOCATION=$2; shift 2 ;;
  --package) PACKAGE=$2; shift 2 ;;
  --mail-from) MAIL_FROM=$2; shift 2 ;;
  --parameters) EXTRA_PARAMETERS=$2; shift 2 ;;
  --dry-run) DRY_RUN=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) echo "deploy: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z $DRY_RUN ]] && ! command -v az >/dev/null 2>&1; then
  echo "deploy: the Azure CLI (az) is not installed: dry run, printing the commands" >&2
  DRY_RUN=1
fi

# R-OPS-2: EU regions only; the same list as the templates' @allowed. Refused here, before
# anything reaches Azure. The messages name the option, not the value given.
EU_REGIONS=(westeurope northeurope swedencentral germanywestcentral francecentral italynorth polandcentral spaincentral)
is_eu_region() {
  local region
  for region in "${EU_REGIONS[@]}"; do [[ $1 == "$region" ]] && return 0; done
  return 1
}
if ! is_eu_region "$LOCATION"; then
  echo "deploy: --location (POPSELL_LOCATION) must be one of the EU regions ${EU_REGIONS[*]} (R-OPS-2)" >&2
  exit 2
fi
if [[ -z $SECONDARY_LOCATION ]]; then
  case $LOCATION in
  westeurope) SECONDARY_LOCATION=northeurope ;;
  northeurope) SECONDARY_LOCATION=westeurope ;;
  *)
    echo "deploy: with --location $LOCATION, name Cosmos DB's failover region: --secondary-location (POPSELL_SECONDARY_LOCATION), another EU region" >&2
    exit 2
    ;;
  esac
fi
if ! is_eu_region "$SECONDARY_LOCATION"; then
  echo "deploy: --secondary-location (POPSELL_SECONDARY_LOCATION) must be one of the EU regions ${EU_REGIONS[*]} (R-OPS-2)" >&2
  exit 2
fi
if [[ $SECONDARY_LOCATION == "$LOCATION" ]]; then
  echo "deploy: --secondary-location must differ from --location: Cosmos DB fails over to another region" >&2
  exit 2
fi
echo "deploy: regions $LOCATION (primary) and $SECONDARY_LOCATION (Cosmos DB failover); the policy allows these two"

# run prints a command, and runs it unless this is a dry run.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  [[ -n $DRY_RUN ]] || "$@"
}

# ------------------------------------------------------------------ the package
# The zip the host runs: host.json and the handler at the root, one folder per function, and
# none of the local-only functions (Makefile LOCAL_ONLY_FUNCTIONS).
list_package() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"
  else
    unzip -Z1 "$1"
  fi
}
if [[ -f $PACKAGE ]]; then
  entries=$(list_package "$PACKAGE")
  for need in host.json handler; do
    grep -qx "$need" <<<"$entries" || { echo "deploy: $PACKAGE has no $need at its root; run make package" >&2; exit 1; }
  done
  for local_only in $(grep -v '^#' "$(dirname "${BASH_SOURCE[0]}")/../functions/local-only.txt"); do
    if grep -q "^$local_only/" <<<"$entries"; then
      echo "deploy: $PACKAGE holds $local_only, a local-only function; run make package" >&2
      exit 1
    fi
  done
  echo "deploy: $PACKAGE: $(grep -c '/function.json$' <<<"$entries") functions, no local-only ones"
elif [[ -z $DRY_RUN ]]; then
  echo "deploy: $PACKAGE not found; run make package (or make deploy)" >&2
  exit 1
fi

# ------------------------------------------------------------------ parameters
# Secrets go to az in a parameters file only this user can read, removed on exit.
params=$(mktemp "${TMPDIR:-/tmp}/popsell-deploy.XXXXXX")
trap 'rm -f "$params"' EXIT
chmod 600 "$params"

if [[ -z $MAIL_FROM ]]; then
  echo "deploy: set POPSELL_MAIL_FROM (or --mail-from): the platform's default sender" >&2
  exit 2
fi

# ------------------------------------------------------------------ secrets
# Which secrets does the vault hold? Asked through Azure Resource Manager (the control plane
# lists secret names, never values), which the deployer's roles allow; the vault is RBAC-only
# and the deployer needs no data-plane role on it. An answer that is not a clean list stops
# the script: a key generated because of a failed query would replace the existing one and
# leave every stored digest unmatchable.
declare -A secret_env=([gdpr-hash-key]=GDPR_HASH_KEY [admin-token]=POPSELL_ADMIN_TOKEN
  [mailjet-public]=MJ_APIKEY_PUBLIC [mailjet-private]=MJ_APIKEY_PRIVATE)
secret_names=(gdpr-hash-key admin-token mailjet-public mailjet-private)
vault_secrets=
if [[ -n $DRY_RUN ]]; then
  echo "deploy: dry run: Key Vault not asked; a secret it lacks must be given, a missing gdpr-hash-key would be generated"
else
  group_exists=$(az group exists --name "$RESOURCE_GROUP")
  case $group_exists in
  true)
    vaults=$(az resource list --resource-group "$RESOURCE_GROUP" --resource-type Microsoft.KeyVault/vaults --query '[].id' --output tsv)
    vault_count=$(grep -c . <<<"$vaults" || true)
    case $vault_count in
    0) ;;
    1)
      # A URL without a host is a resource id on the current cloud's Resource Manager.
      if ! vault_secrets=$(az rest --method get --url "$vaults/secrets?api-version=2023-07-01" --query 'value[].name' --output tsv); then
        echo "deploy: could not list the Key Vault's secrets (the deployer needs Reader on the vault); nothing changed" >&2
        exit 1
      fi
      ;;
    *)
      echo "deploy: the resource group holds more than one Key Vault; cannot tell which holds the secrets" >&2
      exit 1
      ;;
    esac
    ;;
  false) ;;
  *) echo "deploy: az group exists gave no true/false answer" >&2; exit 1 ;;
  esac
fi
vault_has() { grep -qx "$1" <<<"$vault_secrets"; }

hash_key=${GDPR_HASH_KEY:-}
missing=()
if [[ -z $DRY_RUN ]]; then
  for secret in "${secret_names[@]}"; do
    vault_has "$secret" && continue
    [[ $secret == gdpr-hash-key || -n ${!secret_env[$secret]:-} ]] || missing+=("${secret_env[$secret]}")
  done
fi
if ((${#missing[@]})); then
  echo "deploy: Key Vault lacks secrets (first deployment, or one that failed part-way): set ${missing[*]} in the environment" >&2
  exit 2
fi
if [[ -z $DRY_RUN && -z $hash_key ]] && ! vault_has gdpr-hash-key; then
  # Nobody needs to know it: it only has to stay the same (README "Rotating the hash key").
  hash_key=$(openssl rand -hex 32)
  if ! [[ $hash_key =~ ^[0-9a-f]{64}$ ]]; then
    echo "deploy: openssl did not give 32 random bytes" >&2
    exit 1
  fi
  echo "deploy: Key Vault lacks gdpr-hash-key: generated one (written to Key Vault only)"
fi

hash_keys_in_vault=false
if [[ -n ${GDPR_HASH_KEYS:-} ]]; then
  # Its shape only: a bad key inside is the handler's to refuse, naming the setting.
  if ! [[ $GDPR_HASH_KEYS =~ ^[A-Za-z][A-Za-z0-9]{0,15}:[^,[:space:]]+(,[A-Za-z][A-Za-z0-9]{0,15}:[^,[:space:]]+)*$ ]]; then
    echo "deploy: GDPR_HASH_KEYS must be <version>:<key>,... oldest first (README \"Rotating the hash key\")" >&2
    exit 2
  fi
  hash_keys_in_vault=true
elif vault_has gdpr-hash-keys; then
  hash_keys_in_vault=true
fi

POPSELL_PARAM_HASH_KEYS_IN_VAULT=$hash_keys_in_vault POPSELL_PARAM_LOCATION=$LOCATION POPSELL_PARAM_SECONDARY_LOCATION=$SECONDARY_LOCATION \
POPSELL_PARAM_MAIL_FROM=$MAIL_FROM POPSELL_PARAM_HASH_KEY=$hash_key python3 - "$params" <<'PY'
import json, os, sys
values = {
    "location": os.environ["POPSELL_PARAM_LOCATION"],
    "secondaryLocation": os.environ["POPSELL_PARAM_SECONDARY_LOCATION"],
    "mailFrom": os.environ.get("POPSELL_PARAM_MAIL_FROM", ""),
    "gdprHashKey": os.environ.get("POPSELL_PARAM_HASH_KEY", ""),
    "adminToken": os.environ.get("POPSELL_ADMIN_TOKEN", ""),
    "mailjetPublicKey": os.environ.get("MJ_APIKEY_PUBLIC", ""),
    "mailjetPrivateKey": os.environ.get("MJ_APIKEY_PRIVATE", ""),
}
if os.environ.get("GDPR_HASH_KEY_ID"):
    values["hashKeyId"] = os.environ["GDPR_HASH_KEY_ID"]
values["gdprHashKeys"] = os.environ.get("GDPR_HASH_KEYS", "")
values["hashKeysInVault"] = os.environ["POPSELL_PARAM_HASH_KEYS_IN_VAULT"]
values["hashKeysRetired"] = os.environ.get("GDPR_HASH_KEYS_RETIRED", "")
params = {k: {"value": v} for k, v in values.items()}
with open(sys.argv[1], "w") as f:
    json.dump({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
               "contentVersion": "1.0.0.0", "parameters": params}, f)
PY

# ------------------------------------------------------------------ Azure
run az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none

deploy_args=(az deployment group create --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT"
  --template-file infra/main.bicep --parameters "@$params")
[[ -z $EXTRA_PARAMETERS ]] || deploy_args+=(--parameters "@$EXTRA_PARAMETERS")
run "${deploy_args[@]}" --output none
echo "deploy: (the parameters file holds the regions and the secrets to write; never printed)"

if [[ -n $DRY_RUN ]]; then
  app=FUNCTION_APP_NAME # the deployment's functionAppName output
else
  app=$(az deployment group show --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT" \
    --query properties.outputs.functionAppName.value --output tsv)
fi

# Flex Consumption deploys with "one deploy": the CLI uploads the zip to the deployment
# container and restarts the app on it.
run az functionapp deployment source config-zip --resource-group "$RESOURCE_GROUP" --name "$app" --src "$PACKAGE"

if [[ -n $DRY_RUN ]]; then
  echo "deploy: dry run: nothing was changed"
else
  host=$(az deployment group show --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT" \
    --query properties.outputs.functionAppHostName.value --output tsv)
  echo "deploy: done: https://$host/api/health"
fi
