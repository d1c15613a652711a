-- The SQL of one Jifen earn with an idempotency key, statement for statement as
-- the application sends it on PostgreSQL (captured from a real earn), for
-- `bench_api --reference`: pgbench runs it prepared (`-M prepared`, as psycopg
-- prepares a statement on its fifth use), so this is what the database side of
-- an earn costs with no HTTP and no Python. Variables (pgbench -D): tenant,
-- client (api_clients.id), family (token_families.id), lock (the tenant's
-- levels advisory-lock key), members, first (the first member's number).
\set m random(:first, :first + :members - 1)
\set k random(1, 1000000000000)
\set amt random(1, 100)
BEGIN;
-- the token's client, family and tenant
SELECT tenants.id, tenants.slug, tenants.name, tenants.max_points_per_operation, tenants.default_expiry_days, tenants.created_at, api_clients.name AS name_1, api_clients.rate_limit, api_clients.revoked_at, token_families.revoked_at AS family_revoked_at FROM token_families JOIN api_clients ON api_clients.id = token_families.api_client_id JOIN tenants ON tenants.id = api_clients.tenant_id WHERE token_families.id = :family::text AND api_clients.id = :client::bigint AND api_clients.tenant_id = :tenant::bigint;
-- claim the idempotency key
INSERT INTO idempotency_records (tenant_id, key, fingerprint, created_at) VALUES (:tenant::bigint, 'pgbench-' || :client_id::text || '-' || :k::text, 'fa1b131dc96a48ee73720da3deb4384ec2030a1841e45780734a5cc98ee9a832', now()) ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, status_code = NULL, response_body = NULL WHERE idempotency_records.created_at < now() - interval '1 day' RETURNING id;
-- the tenant, holding its levels steady
SELECT tenants.id, tenants.slug, tenants.name, tenants.max_points_per_operation, tenants.default_expiry_days, tenants.created_at, pg_advisory_xact_lock_shared(:lock::bigint) FROM tenants WHERE tenants.id = :tenant::bigint;
-- lock the member, move both balances, re-derive the level
UPDATE members SET total_points = members.total_points + :amt::bigint, lifetime_points = members.lifetime_points + :amt::bigint, level_id = (SELECT levels.id FROM levels WHERE levels.tenant_id = members.tenant_id AND levels.min_points <= members.lifetime_points + :amt::bigint ORDER BY levels.min_points DESC LIMIT 1), updated_at = now(), last_activity_at = now() WHERE members.tenant_id = :tenant::bigint AND members.user_id = 'b' || :m::text AND members.is_points_enabled IS true RETURNING members.id AS mid, members.total_points AS bal, members.user_id, members.display_name, members.email_encrypted, members.email_hash, members.phone_encrypted, members.lifetime_points, members.level_id, members.is_points_enabled, members.created_at, members.updated_at, members.last_activity_at \gset
-- the ledger entry and its lot
WITH credit_entry AS (INSERT INTO point_transactions (tenant_id, member_id, kind, amount, balance_after, category, reason, expires_at, reverses_id, idempotency_key, request_id, actor_type, actor_id, actor_label, created_at) VALUES (:tenant::bigint, :mid::bigint, 'earn', :amt::bigint, :bal::bigint, 'payment', 'bench order', now() + interval '1 year', NULL, 'pgbench-' || :client_id::text || '-' || :k::text, md5(:k::text), 'api_client', :client::bigint, 'bench', now()) RETURNING point_transactions.id, point_transactions.tenant_id, point_transactions.member_id, point_transactions.amount, point_transactions.expires_at, point_transactions.created_at), credit_lot AS (INSERT INTO point_lots (tenant_id, member_id, transaction_id, amount, remaining, expires_at, created_at) SELECT tenant_id, member_id, id, amount, amount, expires_at, created_at FROM credit_entry) SELECT credit_entry.id AS txid FROM credit_entry \gset
-- the audit row
INSERT INTO audit_logs (tenant_id, actor_type, actor_id, actor_label, action, target_type, target_id, ip, user_agent, request_id, data, created_at) VALUES (:tenant::bigint, 'api_client', :client::bigint, 'bench', 'points.earn', 'member', 'b' || :m::text, '127.0.0.1', 'pgbench', md5(:k::text), json_build_object('transaction_id', :txid::bigint, 'points_amount', :amt::bigint, 'category', 'payment', 'balance_after', :bal::bigint), now()) RETURNING audit_logs.id;
-- the profile's tags, for the answer
SELECT member_tags.member_id, member_tags.id, member_tags.granted_at, member_tags.expires_at, vip_tags.id AS tag_id, vip_tags.tag_name, vip_tags.tag_type, vip_tags.rank FROM member_tags JOIN vip_tags ON vip_tags.id = member_tags.tag_id WHERE member_tags.member_id IN (:mid::bigint) AND member_tags.ended_at IS NULL AND member_tags.expires_at > now() ORDER BY member_tags.member_id, vip_tags.tag_type;
-- store the answer under the key (about the size of a real one)
UPDATE idempotency_records SET status_code = 201, response_body = repeat('x', 900) WHERE idempotency_records.tenant_id = :tenant::bigint AND idempotency_records.key = 'pgbench-' || :client_id::text || '-' || :k::text;
COMMIT;
