#!/usr/bin/env bash
# Makes the backup-tracking import samples with the real tools, once per test run: tiny restic
# and borg repositories in DIR, and the JSON the tools print about them.
#   tracking_samples.sh DIR
set -euo pipefail
dir=$1
rm -rf "$dir"
mkdir -p "$dir/data/pacs"
cd "$dir"
# Throw-away repositories: their passwords go through the environment, as the tools expect.
export RESTIC_PASSWORD=test-only BORG_PASSPHRASE=test-only BORG_BASE_DIR="$dir/borg-home"
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes RESTIC_CACHE_DIR="$dir/restic-cache"
head -c 4096 /dev/zero >data/pacs/study-1.dcm
restic -r restic-repo init --quiet
restic -r restic-repo backup data --json >restic-backup-1.json
echo more >data/pacs/study-2.dcm
restic -r restic-repo backup data --json >restic-backup-2.json
restic -r restic-repo snapshots --json >restic-snapshots.json
borg init --encryption=repokey borg-repo
borg create --json borg-repo::pacs-1 data >borg-create.json
echo even-more >data/pacs/study-3.dcm
borg create borg-repo::pacs-2 data
borg list --json borg-repo >borg-list.json
borg info --json --last 1 borg-repo >borg-info.json
echo "tracking_samples: restic and borg samples in $dir"
