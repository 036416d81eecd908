/* cfg_teams.c — the runbook part of the configuration (issue 7): `teams` (a list of records,
 * loaded after the receivers it names) and the default of runbooks.shipped_dir. The scalar
 * runbooks.* and report.* keys are rows of the option table (cfg_schema.c).
 *
 * A team is what a runbook step names as its owner ("cs: publish the maintenance notice"); its
 * receivers get the reminders for that team's steps. Team names are not secrets and are quoted
 * in messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asakai/ak_buf.h"
#include "asakai/ak_err.h"
#include "asakai/ak_util.h"
#include "cfg_int.h"
#include "../core/ak_banned.h"

#ifndef AK_CFG_SHIPPED_RUNBOOKS
#define AK_CFG_SHIPPED_RUNBOOKS "/usr/local/share/asakai/runbooks"
#endif

#define TEAMS_MAX 100
#define TEAM_NAME_MAX 64

static const char *const team_keys[] = {"name", "receivers"};

/* [a-z0-9][a-z0-9-]*, as runbook owners are written. */
static bool check_team_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);

    if (len == 0 || len > TEAM_NAME_MAX || v[0] == '-' ||
        strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != len) {
        snprintf(why, n, "a team name is 1 to 64 of a-z, 0-9 and '-', not starting with '-'");
        return false;
    }
    return true;
}

static void load_team(struct ak__cfg_loader *ld, const struct ak_cfg_node *m, size_t idx,
                      struct ak_cfg_team *t)
{
    const struct ak_cfg *c = ld->c;
    const struct ak_cfg_node *v;
    char *key = ak_xasprintf("teams[%zu]", idx);

    t->line = (int)m->line;
    if (!ak__cfg_check_map(ld, m, key, team_keys, AK_ARRAY_SIZE(team_keys)))
        goto out;
    ak__cfg_get_str(ld, m, key, "name", check_team_name, true, &t->name);
    for (size_t j = 0; t->name && j < idx; j++) {
        if (ak_streq(c->teams[j].name, t->name)) {
            v = ak__cfg_map_get(m, "name");
            ak__cfg_report(ld, v->line, v->col, key,
                           "duplicate team \"%s\" (first defined at line %d)", t->name,
                           c->teams[j].line);
            break;
        }
    }
    /* A team without receivers is allowed: it owns steps but gets no reminders. */
    v = ak__cfg_map_get(m, "receivers");
    if (v) {
        char *rkey = ak_xasprintf("%s.receivers", key);

        ak__cfg_receiver_list(ld, v, rkey, &t->receivers);
        free(rkey);
    }
out:
    free(key);
}

static void load_teams(struct ak__cfg_loader *ld, const struct ak_cfg_node *v)
{
    struct ak_cfg *c = ld->c;

    if (v->kind != AK_CFG_NODE_SEQ) {
        ak__cfg_report(ld, v->line, v->col, "teams",
                       "expected a list of {name, receivers}, got %s", ak__cfg_kind_name(v));
        return;
    }
    if (v->n > TEAMS_MAX) {
        ak__cfg_report(ld, v->line, v->col, "teams", "more than %d teams", TEAMS_MAX);
        return;
    }
    c->teams = ak_xcalloc(v->n ? v->n : 1, sizeof(*c->teams));
    for (size_t i = 0; i < v->n && !ak__cfg_too_many(ld); i++) {
        load_team(ld, v->kids[i], i, &c->teams[i]);
        c->n_teams = i + 1;
    }
}

/* Follows the receivers example (every line "# ", so that uncommented they load together). */
const char ak__cfg_dump_teams_example[] =
    "# # Teams that own runbook steps; their receivers get the reminders (none by default).\n"
    "# teams:\n"
    "#   - {name: sre, receivers: [team-mail, team-slack]}\n"
    "#   - {name: cs, receivers: [team-mail]}\n";

void ak__cfg_runbook_defaults(struct ak_cfg *c)
{
    /* An installed asakai finds its templates where `meson install` put them; a build tree
     * run from the repository finds them in ./runbooks. */
    if (access(AK_CFG_SHIPPED_RUNBOOKS, R_OK | X_OK) == 0) {
        free(c->runbook_shipped_dir);
        c->runbook_shipped_dir = ak_xstrdup(AK_CFG_SHIPPED_RUNBOOKS);
    }
}

void ak__cfg_load_teams(struct ak__cfg_loader *ld)
{
    struct ak_cfg *c = ld->c;

    if (ld->teams && !ak_cfg_node_is_null(ld->teams))
        load_teams(ld, ld->teams);
    if (c->report_urgent_within_ms > c->report_horizon_ms)
        ak__cfg_report(ld, ld->report ? ld->report->line : 1, ld->report ? ld->report->col : 1,
                       "report.urgent_within", "must not be longer than report.horizon");
}

void ak__cfg_teams_release(struct ak_cfg *c)
{
    for (size_t i = 0; i < c->n_teams; i++) {
        free(c->teams[i].name);
        ak_cfg_strlist_release(&c->teams[i].receivers);
    }
    free(c->teams);
    c->teams = NULL;
    c->n_teams = 0;
}
