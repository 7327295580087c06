#!/usr/bin/env bash
# Deploy popsell-gdpr to Azure: infra/main.bicep into a resource group, then the package
# (`make package`) to the function app it creates. `make deploy` runs this after packaging.
#
#   tools/deploy.sh [--resource-group NAME] [--location REGION] [--package ZIP]
#                   --mail-from ADDRESS [--parameters FILE] [--dry-run]
#
# Settings may also come from the environment: POPSELL_RESOURCE_GROUP (default popsell-gdpr),
# POPSELL_LOCATION (default westeurope), POPSELL_MAIL_FROM (required), GDPR_HASH_KEY_ID.
# Secrets come from the environment only, never from arguments (which other users can read):
# GDPR_HASH_KEY, POPSELL_ADMIN_TOKEN, MJ_APIKEY_PUBLIC, MJ_APIKEY_PRIVATE. Each one given is
# written to Key Vault; one not given keeps its current value there. The first deployment
# needs all four (the hash key is made here with openssl when it is not given).
#
# --dry-run prints the commands instead of running them (secrets are never printed); it is
# the default when the Azure CLI is not installed. Needs: az (logged in, with Bicep), python3.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESOURCE_GROUP=${POPSELL_RESOURCE_GROUP:-popsell-gdpr}
LOCATION=${POPSELL_LOCATION:-westeurope}
MAIL_FROM=${POPSELL_MAIL_FROM:-}
PACKAGE=popsell-gdpr.zip
EXTRA_PARAMETERS=
DEPLOYMENT=popsell-gdpr
DRY_RUN=

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

while (($#)); do
  case $1 in
  --resource-group) RESOURCE_GROUP=$2; shift 2 ;;
  --location) LOCATION=$2; shift 2 ;;
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

# R-OPS-2: EU regions only; the same list as the templates' @allowed.
case $LOCATION in
westeurope | northeurope | swedencentral | germanywestcentral | francecentral | italynorth | polandcentral | spaincentral) ;;
*) echo "deploy: $LOCATION is not an EU region this deployment allows (R-OPS-2)" >&2; exit 2 ;;
esac

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
  for local_only in TestClock QueueCounts; do
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

first_deployment=
if [[ -z $DRY_RUN ]] && ! az deployment group show --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT" --query name --output tsv >/dev/null 2>&1; then
  first_deployment=1
fi
hash_key=${GDPR_HASH_KEY:-}
if [[ -n $first_deployment && -z $hash_key ]]; then
  # Nobody needs to know it: it only has to stay the same (README "Rotating the hash key").
  hash_key=$(openssl rand -hex 32)
  echo "deploy: first deployment: generated GDPR_HASH_KEY (written to Key Vault only)"
fi
if [[ -n $first_deployment ]]; then
  missing=()
  [[ -n ${POPSELL_ADMIN_TOKEN:-} ]] || missing+=(POPSELL_ADMIN_TOKEN)
  [[ -n ${MJ_APIKEY_PUBLIC:-} ]] || missing+=(MJ_APIKEY_PUBLIC)
  [[ -n ${MJ_APIKEY_PRIVATE:-} ]] || missing+=(MJ_APIKEY_PRIVATE)
  if ((${#missing[@]})); then
    echo "deploy: the first deployment needs ${missing[*]} in the environment" >&2
    exit 2
  fi
fi

POPSELL_PARAM_MAIL_FROM=$MAIL_FROM POPSELL_PARAM_HASH_KEY=$hash_key python3 - "$params" <<'PY'
import json, os, sys
values = {
    "mailFrom": os.environ.get("POPSELL_PARAM_MAIL_FROM", ""),
    "gdprHashKey": os.environ.get("POPSELL_PARAM_HASH_KEY", ""),
    "adminToken": os.environ.get("POPSELL_ADMIN_TOKEN", ""),
    "mailjetPublicKey": os.environ.get("MJ_APIKEY_PUBLIC", ""),
    "mailjetPrivateKey": os.environ.get("MJ_APIKEY_PRIVATE", ""),
}
if os.environ.get("GDPR_HASH_KEY_ID"):
    values["hashKeyId"] = os.environ["GDPR_HASH_KEY_ID"]
params = {k: {"value": v} for k, v in values.items()}
with open(sys.argv[1], "w") as f:
    json.dump({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
               "contentVersion": "1.0.0.0", "parameters": params}, f)
PY

# ------------------------------------------------------------------ Azure
run az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none

deploy_args=(az deployment group create --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT"
  --template-file infra/main.bicep --parameters "location=$LOCATION" --parameters "@$params")
[[ -z $EXTRA_PARAMETERS ]] || deploy_args+=(--parameters "@$EXTRA_PARAMETERS")
run "${deploy_args[@]}" --output none
echo "deploy: (the parameters file holds the secrets given in the environment; never printed)"

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
