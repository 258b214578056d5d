/**
 * How one captured change is applied onto the original, as a function in the original's cutover_replay schema: a whole
 * batch goes in one call (one round trip, not three per change), and each change runs in its own exception block (a
 * subtransaction), so a change that does not fit is undone alone, recorded as a conflict, and the batch goes on.
 * Values go through jsonb_populate_record with the migrated table's own row type, the inverse of the to_jsonb that
 * captured them; every identifier goes through format('%I') or regclass.
 */

export const APPLY_FUNCTION = 'cutover_replay.apply';

/**
 * Errors that say nothing about the change but about the server or the login (a broken connection, a lock or a
 * deadlock, a shutdown, a missing privilege, a read-only original): re-raised, so replay stops and a later call resumes.
 */
const STOPS_REPLAY = `left(state, 2) in ('08', '25', '40', '53', '55', '57', '58', 'F0', 'XX') or state = '42501'`;

/**
 * apply(capture, changes): changes is a jsonb array of captured rows (id, schema_name, table_name, display, op, pkey,
 * new_row, changed, xact) in id order. Returns the conflicts, which it also records. Truncates of one transaction that
 * follow each other are applied as one statement (their tables may reference each other, as TRUNCATE … CASCADE did).
 */
export const CREATE_APPLY_FUNCTION = `
  create or replace function ${APPLY_FUNCTION}(capture uuid, changes jsonb)
  returns table (change_id bigint, table_name text, op text, pkey jsonb, reason text)
  language plpgsql set search_path = pg_catalog, pg_temp as $fn$
  #variable_conflict use_column
  declare
    total int := jsonb_array_length(changes);
    i int := 0;
    c jsonb;
    grp jsonb;
    new_values jsonb;
    changed_columns jsonb;
    target regclass;
    targets text;
    missing text;
    every_column text[];
    writable text[];
    gone text[];
    kept text[];
    columns text;
    matching text;
    found_rows bigint;
    why text;
    state text;
  begin
    while i < total loop
      c := changes -> i;
      grp := jsonb_build_array(c);
      if c ->> 'op' = 'truncate' then
        while i + jsonb_array_length(grp) < total
              and changes -> (i + jsonb_array_length(grp)) ->> 'op' = 'truncate'
              and changes -> (i + jsonb_array_length(grp)) ->> 'xact' = c ->> 'xact' loop
          grp := grp || jsonb_build_array(changes -> (i + jsonb_array_length(grp)));
        end loop;
      end if;
      i := i + jsonb_array_length(grp);
      why := null;
      -- A delete has no new row and an insert no changed columns: JSON null in the batch.
      new_values := coalesce(nullif(c -> 'new_row', 'null'::jsonb), '{}');
      changed_columns := coalesce(nullif(c -> 'changed', 'null'::jsonb), '[]');
      begin
        if c ->> 'op' = 'truncate' then
          select string_agg(format('%I.%I', g ->> 'schema_name', g ->> 'table_name'), ', ')
                   filter (where to_regclass(format('%I.%I', g ->> 'schema_name', g ->> 'table_name')) is null),
                 string_agg(to_regclass(format('%I.%I', g ->> 'schema_name', g ->> 'table_name'))::text, ', ')
            into missing, targets
            from jsonb_array_elements(grp) g;
          if missing is not null then
            why := format('table %s no longer exists on the original', missing);
          else
            execute 'truncate ' || targets;
          end if;
        else
          select cl.oid into target
            from pg_class cl join pg_namespace ns on ns.oid = cl.relnamespace
           where ns.nspname = c ->> 'schema_name' and cl.relname = c ->> 'table_name' and cl.relkind in ('r', 'p');
          if target is null then
            why := 'the table no longer exists on the original';
          else
            select array_agg(a.attname::text), coalesce(array_agg(a.attname::text) filter (where a.attgenerated = ''), '{}')
              into every_column, writable
              from pg_attribute a where a.attrelid = target and a.attnum > 0 and not a.attisdropped;
            gone := array(select k from jsonb_object_keys(c -> 'pkey') k where not k = any(every_column));
            if cardinality(gone) > 0 then
              why := format('key column %s no longer exists on the original',
                            (select string_agg(format('"%s"', g), ', ') from unnest(gone) g));
            else
              matching := (select string_agg(format('cutover_target.%I = cutover_key.%I', k, k), ' and ')
                             from jsonb_object_keys(c -> 'pkey') k);
              -- Values of columns the migration dropped would be lost: not applied. A null in one loses nothing.
              gone := array(
                select k from jsonb_each(new_values) e(k, v)
                 where not k = any(every_column) and v <> 'null'::jsonb
                   and (c ->> 'op' = 'insert' or k in (select jsonb_array_elements_text(changed_columns))));
              if cardinality(gone) > 0 then
                why := format('column %s no longer exists on the original', (select string_agg(format('"%s"', g), ', ') from unnest(gone) g));
              elsif c ->> 'op' = 'insert' then
                kept := array(select k from jsonb_object_keys(new_values) k where k = any(writable));
                if cardinality(kept) = 0 then
                  execute format('insert into %s default values', target);
                else
                  columns := (select string_agg(format('%I', k), ', ') from unnest(kept) k);
                  execute format('insert into %s (%s) overriding system value select %s from jsonb_populate_record(null::%s, $1)',
                                 target, columns, columns, target) using new_values;
                end if;
              elsif c ->> 'op' = 'update' then
                kept := array(select k from jsonb_array_elements_text(changed_columns) k where k = any(writable));
                if cardinality(kept) = 0 then
                  execute format('select 1 from %s as cutover_target, jsonb_populate_record(null::%s, $1) as cutover_key where %s',
                                 target, target, matching) using c -> 'pkey';
                else
                  execute format('update %s as cutover_target set %s from jsonb_populate_record(null::%s, $1) as cutover_new, '
                                 'jsonb_populate_record(null::%s, $2) as cutover_key where %s',
                                 target, (select string_agg(format('%I = cutover_new.%I', k, k), ', ') from unnest(kept) k),
                                 target, target, matching) using new_values, c -> 'pkey';
                end if;
                get diagnostics found_rows = row_count;
                if found_rows = 0 then why := 'the row no longer exists on the original'; end if;
              else
                execute format('delete from %s as cutover_target using jsonb_populate_record(null::%s, $1) as cutover_key where %s',
                               target, target, matching) using c -> 'pkey';
                get diagnostics found_rows = row_count;
                if found_rows = 0 then why := 'the row no longer exists on the original'; end if;
              end if;
            end if;
          end if;
        end if;
      exception when others then
        get stacked diagnostics state = returned_sqlstate, why = message_text;
        if ${STOPS_REPLAY} then raise; end if;
        why := format('%s (SQLSTATE %s)', why, state);
      end;
      if why is not null then
        for c in select * from jsonb_array_elements(grp) loop
          insert into cutover_replay.conflicts (capture_id, change_id, table_name, op, pkey, new_row, reason)
          values (capture, (c ->> 'id')::bigint, c ->> 'display', c ->> 'op', nullif(c -> 'pkey', 'null'::jsonb),
                  nullif(c -> 'new_row', 'null'::jsonb), why);
          change_id := (c ->> 'id')::bigint;
          table_name := c ->> 'display';
          op := c ->> 'op';
          pkey := nullif(c -> 'pkey', 'null'::jsonb);
          reason := why;
          return next;
        end loop;
      end if;
    end loop;
  end $fn$`;
