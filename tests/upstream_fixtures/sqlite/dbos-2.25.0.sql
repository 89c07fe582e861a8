-- Written by upstream dbos 2.25.0 (tests/upstream_fixtures/generate.py)
BEGIN TRANSACTION;
CREATE TABLE application_versions (
    version_id TEXT NOT NULL PRIMARY KEY,
    version_name TEXT NOT NULL UNIQUE,
    version_timestamp INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000)
);
INSERT INTO "application_versions" VALUES('e1b4d26b-05da-4d6a-978d-2017c7fbecfb','173b784b40da5dc78cafa5425d819e2f',1796560749000,1796560749000);
CREATE TABLE dbos_migrations (version INTEGER NOT NULL PRIMARY KEY);
INSERT INTO "dbos_migrations" VALUES(36);
CREATE TABLE notifications (
    message_uuid TEXT NOT NULL DEFAULT (hex(randomblob(16))) PRIMARY KEY,
    destination_uuid TEXT NOT NULL,
    topic TEXT,
    message TEXT NOT NULL,
    created_at_epoch_ms INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000), "serialization" TEXT DEFAULT NULL, "consumed" BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (destination_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "notifications" VALUES('f627e69a-74e7-468b-b334-8655561fd405','late-receiver-wf','note','gASVCQAAAAAAAACMBWhlbGxvlC4=',1796560749000,'py_pickle',0);
CREATE TABLE operation_outputs (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    function_name TEXT NOT NULL DEFAULT '',
    output TEXT,
    error TEXT,
    child_workflow_id TEXT, started_at_epoch_ms BIGINT, completed_at_epoch_ms BIGINT, "serialization" TEXT DEFAULT NULL,
    PRIMARY KEY (workflow_uuid, function_id),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "operation_outputs" VALUES('finished-wf',1,'double','gARLKi4=',NULL,NULL,1796560749210,1796560749240,'py_pickle');
INSERT INTO "operation_outputs" VALUES('finished-wf',2,'DBOS.setEvent',NULL,NULL,NULL,1796560749302,1796560749322,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',3,'DBOS.writeStream',NULL,NULL,NULL,1796560749340,1796560749351,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',4,'DBOS.writeStream',NULL,NULL,NULL,1796560749357,1796560749359,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',5,'DBOS.writeStream',NULL,NULL,NULL,1796560749369,1796560749375,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',6,'DBOS.closeStream',NULL,NULL,NULL,1796560749383,1796560749389,NULL);
INSERT INTO "operation_outputs" VALUES('portable-wf',1,'DBOS.setEvent',NULL,NULL,NULL,1796560749449,1796560749452,NULL);
INSERT INTO "operation_outputs" VALUES('sleeper-wf',1,'double','gARLDi4=',NULL,NULL,1796560749496,1796560749502,'py_pickle');
INSERT INTO "operation_outputs" VALUES('sleeper-wf',2,'DBOS.sleep','1796560769.5235803',NULL,NULL,1796560749522,1796560749523,'portable_json');
INSERT INTO "operation_outputs" VALUES('waiter-wf',1,'double','gARLAi4=',NULL,NULL,1796560749550,1796560749558,'py_pickle');
INSERT INTO "operation_outputs" VALUES('waiter-wf',3,'DBOS.sleep','2796560749.5802565',NULL,NULL,1796560749579,1796560749585,'portable_json');
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',1,'double','gARLBC4=',NULL,NULL,1796560749590,1796560749592,'py_pickle');
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',2,'DBOS.sleep','1796560769.6244092',NULL,NULL,1796560749623,1796560749624,'portable_json');
CREATE TABLE queues (
    queue_id TEXT PRIMARY KEY DEFAULT (hex(randomblob(16))),
    name TEXT NOT NULL UNIQUE,
    concurrency INTEGER,
    worker_concurrency INTEGER,
    rate_limit_max INTEGER,
    rate_limit_period_sec REAL,
    priority_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    partition_queue BOOLEAN NOT NULL DEFAULT FALSE,
    polling_interval_sec REAL NOT NULL DEFAULT 1.0,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000)
);
INSERT INTO "queues" VALUES('6292DCAA6C0B012F81BA64D76509C1B3','registered_queue',3,NULL,NULL,NULL,0,0,1.0,1796560749000,1796560749685);
CREATE TABLE streams (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    "offset" INTEGER NOT NULL, function_id INTEGER NOT NULL DEFAULT 0, "serialization" TEXT DEFAULT NULL,
    PRIMARY KEY (workflow_uuid, key, "offset"),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAC4=',0,3,'py_pickle');
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAS4=',1,4,'py_pickle');
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAi4=',2,5,'py_pickle');
INSERT INTO "streams" VALUES('finished-wf','progress','"__DBOS_STREAM_CLOSED__"',3,6,'portable_json');
CREATE TABLE workflow_events (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL, "serialization" TEXT DEFAULT NULL,
    PRIMARY KEY (workflow_uuid, key),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "workflow_events" VALUES('finished-wf','status','gASVCwAAAAAAAACMB3NoaXBwZWSULg==','py_pickle');
INSERT INTO "workflow_events" VALUES('portable-wf','greeting','"hello bob"','portable_json');
CREATE TABLE workflow_events_history (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL, "serialization" TEXT DEFAULT NULL,
    PRIMARY KEY (workflow_uuid, function_id, key),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid)
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "workflow_events_history" VALUES('finished-wf',2,'status','gASVCwAAAAAAAACMB3NoaXBwZWSULg==','py_pickle');
INSERT INTO "workflow_events_history" VALUES('portable-wf',1,'greeting','"hello bob"','portable_json');
CREATE TABLE workflow_schedules (
    schedule_id TEXT PRIMARY KEY,
    schedule_name TEXT NOT NULL UNIQUE,
    workflow_name TEXT NOT NULL,
    workflow_class_name TEXT,
    schedule TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    context TEXT NOT NULL
, "last_fired_at" TEXT DEFAULT NULL, "automatic_backfill" BOOLEAN NOT NULL DEFAULT FALSE, "cron_timezone" TEXT DEFAULT NULL, "queue_name" TEXT DEFAULT NULL);
INSERT INTO "workflow_schedules" VALUES('6a0c61ed-88e7-4142-8d16-e2af95f5948a','nightly','nightly',NULL,'0 3 * * *','ACTIVE','gAROLg==',NULL,0,NULL,NULL);
CREATE TABLE workflow_status (
    workflow_uuid TEXT PRIMARY KEY,
    status TEXT,
    name TEXT,
    authenticated_user TEXT,
    assumed_role TEXT,
    authenticated_roles TEXT,
    request TEXT,
    output TEXT,
    error TEXT,
    executor_id TEXT,
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    application_version TEXT,
    application_id TEXT,
    class_name TEXT DEFAULT NULL,
    config_name TEXT DEFAULT NULL,
    recovery_attempts INTEGER DEFAULT 0,
    queue_name TEXT,
    workflow_timeout_ms INTEGER,
    workflow_deadline_epoch_ms INTEGER,
    inputs TEXT,
    started_at_epoch_ms INTEGER,
    deduplication_id TEXT,
    priority INTEGER NOT NULL DEFAULT 0
, queue_partition_key TEXT, forked_from TEXT, "owner_xid" TEXT DEFAULT NULL, "parent_workflow_id" TEXT DEFAULT NULL, "serialization" TEXT DEFAULT NULL, "delay_until_epoch_ms" BIGINT DEFAULT NULL, "was_forked_from" BOOLEAN NOT NULL DEFAULT FALSE, "rate_limited" BOOLEAN NOT NULL DEFAULT FALSE, "completed_at" BIGINT, "attributes" TEXT, "schedule_name" TEXT);
INSERT INTO "workflow_status" VALUES('finished-wf','SUCCESS','finished_wf',NULL,NULL,NULL,NULL,'gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu',NULL,'local',1796560749000,1796560749000,'173b784b40da5dc78cafa5425d819e2f','',NULL,NULL,1,NULL,NULL,NULL,'gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'caf1645e-3c9f-48cd-8029-96a948585ba9',NULL,'py_pickle',NULL,0,0,1796560749000,'null',NULL);
INSERT INTO "workflow_status" VALUES('failing-wf','ERROR','failing_wf',NULL,NULL,NULL,NULL,NULL,'gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=','local',1796560749000,1796560749000,'173b784b40da5dc78cafa5425d819e2f','',NULL,NULL,1,NULL,NULL,NULL,'gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'ac64091e-1495-4ad3-9db2-904e17355a88',NULL,'py_pickle',NULL,0,0,1796560749000,'null',NULL);
INSERT INTO "workflow_status" VALUES('portable-wf','SUCCESS','portable_wf',NULL,NULL,NULL,NULL,'{"name":"bob","items":[1,2,3]}',NULL,'local',1796560749000,1796560749000,'173b784b40da5dc78cafa5425d819e2f','',NULL,NULL,1,NULL,NULL,NULL,'{"namedArgs":{},"positionalArgs":["bob"]}',NULL,NULL,0,NULL,NULL,'6f50354f-1d16-412c-bb8e-cd855e6db6c6',NULL,'portable_json',NULL,0,0,1796560749000,'null',NULL);
INSERT INTO "workflow_status" VALUES('sleeper-wf','PENDING','sleeper',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560749000,1796560749000,'173b784b40da5dc78cafa5425d819e2f','',NULL,NULL,1,NULL,NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'1dea4611-e6b0-4562-941b-67b860d30411',NULL,'py_pickle',NULL,0,0,NULL,'null',NULL);
INSERT INTO "workflow_status" VALUES('waiter-wf','PENDING','waiter',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560749000,1796560749000,'173b784b40da5dc78cafa5425d819e2f','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'292e1722-9ba4-4de9-977d-e51b2fab4d36',NULL,'py_pickle',NULL,0,0,NULL,'null',NULL);
INSERT INTO "workflow_status" VALUES('late-receiver-wf','PENDING','late_receiver',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560749000,1796560749000,'173b784b40da5dc78cafa5425d819e2f','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'43a262b2-aca3-4a37-aa9f-5156d88b014d',NULL,'py_pickle',NULL,0,0,NULL,'null',NULL);
INSERT INTO "workflow_status" VALUES('queued-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560751000,1796560751000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,NULL,NULL,'py_pickle',NULL,0,0,NULL,'null',NULL);
INSERT INTO "workflow_status" VALUES('queued-portable-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560751000,1796560751000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'{"namedArgs":{},"positionalArgs":[6]}',NULL,NULL,0,NULL,NULL,NULL,NULL,'portable_json',NULL,0,0,NULL,'null',NULL);
CREATE INDEX workflow_status_created_at_index ON workflow_status (created_at);
CREATE INDEX idx_workflow_topic ON notifications (destination_uuid, topic);
CREATE INDEX "idx_notifications" ON "notifications" ("destination_uuid", "topic");
CREATE INDEX "idx_workflow_status_delayed" ON "workflow_status" ("delay_until_epoch_ms") WHERE status = 'DELAYED';
CREATE INDEX "idx_operation_outputs_completed_at_function_name" ON "operation_outputs" ("completed_at_epoch_ms", "function_name");
CREATE INDEX "idx_workflow_status_forked_from" ON "workflow_status" ("forked_from") WHERE "forked_from" IS NOT NULL;
CREATE INDEX "idx_workflow_status_parent_workflow_id" ON "workflow_status" ("parent_workflow_id") WHERE "parent_workflow_id" IS NOT NULL;
CREATE UNIQUE INDEX "uq_workflow_status_dedup_id" ON "workflow_status" ("queue_name", "deduplication_id") WHERE "deduplication_id" IS NOT NULL;
CREATE INDEX "idx_workflow_status_pending" ON "workflow_status" ("created_at") WHERE "status" = 'PENDING';
CREATE INDEX "idx_workflow_status_failed" ON "workflow_status" ("status", "created_at") WHERE "status" IN ('ERROR', 'CANCELLED', 'MAX_RECOVERY_ATTEMPTS_EXCEEDED');
CREATE INDEX "idx_workflow_status_in_flight" ON "workflow_status" ("queue_name", "status", "priority", "created_at") WHERE "status" IN ('ENQUEUED', 'PENDING');
CREATE INDEX "idx_workflow_status_rate_limited" ON "workflow_status" ("queue_name", "started_at_epoch_ms") WHERE "rate_limited" = TRUE;
CREATE INDEX "idx_workflow_status_completed_at" ON "workflow_status" ("completed_at") WHERE "completed_at" IS NOT NULL;
CREATE INDEX "idx_workflow_status_started_at" ON "workflow_status" ("started_at_epoch_ms") WHERE "started_at_epoch_ms" IS NOT NULL;
CREATE INDEX "idx_workflow_status_schedule_name" ON "workflow_status" ("schedule_name") WHERE "schedule_name" IS NOT NULL;
COMMIT;
