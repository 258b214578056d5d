/** `cutover --help`: the commands, their options and the exit codes, in one screen. */
export const usage = `Usage: cutover <command> [options]

Commands:
  deploy <environment> <package>   Start a deployment. <package> is a package directory or .tar.gz on this
                                   machine (uploaded first) or sha256:<id> of an uploaded package.
      --mode <mode>                readonly (default), readwrite, readwrite-replay, maintenance-page or expand-contract
      --wait                       Show the phases until it awaits verification, completes or fails
      --requested-by <name>        Who asks, for the deployment log
      --allow-missing-migrations   Deploy a package that lacks migrations the database already applied
                                   (an older package, on purpose); refused otherwise
      --strategy <strategy>        smooth (default), or rolling: hosts upgraded a few at a time, no clone
      --max-unavailable <n>        (rolling) hosts out of the route at once (default 1)
  status [<id>]                    One deployment, or the latest deployments
      --environment <name>         (list) only this environment
      --phase <phase>              (list) only deployments in this phase, e.g. awaiting-verification
      --limit <n>                  (list) at most n deployments (default 20)
  complete <id>                    Complete: public traffic moves to the new version
      --wait                       Until it is completed
  reset <id>                       Reset: the previous version goes back (code only)
      --rollback-database          ... and its database goes back to the restore point
      --wait                       Until it is reset
  logs <id>                        The deployment log
      --follow                     Stream new lines until the deployment is over
  environments                     The environments this token may see

Options:
  --api <url>      The Cutover API (CUTOVER_API_URL; default http://127.0.0.1:7300)
  --token <token>  Bearer token (CUTOVER_TOKEN); not needed when the API has no auth section
  --json           Machine-readable output
  -h, --help       This help

Exit codes:
  0  done (with --wait: awaiting verification or completed; reset for "reset --wait")
  1  the deployment failed (or was reset when it was meant to go live)
  2  usage error, or input the API refused (400, 404, 413, 415, 422)
  3  refused in the current state (409): environment busy, action not available
  4  authentication or permission (401, 403)
  5  the API is unreachable or failing (network error, 5xx)
`;
