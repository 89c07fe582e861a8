-- Written by upstream dbos 2.16.0 (tests/upstream_fixtures/generate.py)
BEGIN TRANSACTION;
CREATE TABLE application_versions (
    version_id TEXT NOT NULL PRIMARY KEY,
    version_name TEXT NOT NULL UNIQUE,
    version_timestamp INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000)
);
INSERT INTO "application_versions" VALUES('1411c420-b28f-4448-9e2e-0982a5423b2a','d524403db8bc7c917bc59ebee154e9c7',1796560709000,1796560709000);
CREATE TABLE dbos_migrations (version INTEGER NOT NULL PRIMARY KEY);
INSERT INTO "dbos_migrations" VALUES(16);
CREATE TABLE notifications (
    message_uuid TEXT NOT NULL DEFAULT (hex(randomblob(16))) PRIMARY KEY,
    destination_uuid TEXT NOT NULL,
    topic TEXT,
    message TEXT NOT NULL,
    created_at_epoch_ms INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000), "serialization" TEXT DEFAULT NULL, "consumed" BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (destination_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "notifications" VALUES('d5b1ff56-7a94-47dc-a7fd-fb8264613f33','late-receiver-wf','note','gASVCQAAAAAAAACMBWhlbGxvlC4=',1796560710000,'py_pickle',0);
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
INSERT INTO "operation_outputs" VALUES('finished-wf',1,'double','gARLKi4=',NULL,NULL,1796560709670,1796560709672,'py_pickle');
INSERT INTO "operation_outputs" VALUES('finished-wf',2,'DBOS.setEvent',NULL,NULL,NULL,1796560709721,1796560709724,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',3,'DBOS.writeStream',NULL,NULL,NULL,1796560709740,1796560709743,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',4,'DBOS.writeStream',NULL,NULL,NULL,1796560709766,1796560709767,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',5,'DBOS.writeStream',NULL,NULL,NULL,1796560709778,1796560709780,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',6,'DBOS.closeStream',NULL,NULL,NULL,1796560709788,1796560709791,NULL);
INSERT INTO "operation_outputs" VALUES('portable-wf',1,'DBOS.setEvent',NULL,NULL,NULL,1796560709874,1796560709879,NULL);
INSERT INTO "operation_outputs" VALUES('waiter-wf',1,'double','gARLAi4=',NULL,NULL,1796560709939,1796560709942,'py_pickle');
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',1,'double','gARLBC4=',NULL,NULL,1796560709958,1796560709980,'py_pickle');
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',2,'DBOS.sleep','1796560729.9991016',NULL,NULL,1796560709998,1796560709999,'portable_json');
INSERT INTO "operation_outputs" VALUES('waiter-wf',3,'DBOS.sleep','2796560709.980469',NULL,NULL,1796560709979,1796560709980,'portable_json');
INSERT INTO "operation_outputs" VALUES('sleeper-wf',1,'double','gARLDi4=',NULL,NULL,1796560709921,1796560710062,'py_pickle');
INSERT INTO "operation_outputs" VALUES('sleeper-wf',2,'DBOS.sleep','1796560730.0769448',NULL,NULL,1796560710076,1796560710076,'portable_json');
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
INSERT INTO "workflow_schedules" VALUES('b902fa34-897b-4553-94a2-82b7490f93d2','nightly','nightly',NULL,'0 3 * * *','ACTIVE','gAROLg==',NULL,0,NULL,NULL);
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
, queue_partition_key TEXT, forked_from TEXT, "owner_xid" TEXT DEFAULT NULL, "parent_workflow_id" TEXT DEFAULT NULL, "serialization" TEXT DEFAULT NULL, "delay_until_epoch_ms" BIGINT DEFAULT NULL, "was_forked_from" BOOLEAN NOT NULL DEFAULT FALSE);
INSERT INTO "workflow_status" VALUES('finished-wf','SUCCESS','finished_wf',NULL,NULL,NULL,NULL,'gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu',NULL,'local',1796560709000,1796560709000,'d524403db8bc7c917bc59ebee154e9c7','',NULL,NULL,1,NULL,NULL,NULL,'gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'dde339a2-8155-4128-9c95-8985cab56ce1',NULL,'py_pickle',NULL,0);
INSERT INTO "workflow_status" VALUES('failing-wf','ERROR','failing_wf',NULL,NULL,NULL,NULL,NULL,'gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=','local',1796560709000,1796560709000,'d524403db8bc7c917bc59ebee154e9c7','',NULL,NULL,1,NULL,NULL,NULL,'gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'a1b0ae3d-223a-443e-b076-8c8b42050c9d',NULL,'py_pickle',NULL,0);
INSERT INTO "workflow_status" VALUES('portable-wf','SUCCESS','portable_wf',NULL,NULL,NULL,NULL,'{"name":"bob","items":[1,2,3]}',NULL,'local',1796560709000,1796560709000,'d524403db8bc7c917bc59ebee154e9c7','',NULL,NULL,1,NULL,NULL,NULL,'{"namedArgs":{},"positionalArgs":["bob"]}',NULL,NULL,0,NULL,NULL,'4240ab66-e51d-4beb-a036-7ef8b0582b8c',NULL,'portable_json',NULL,0);
INSERT INTO "workflow_status" VALUES('sleeper-wf','PENDING','sleeper',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560709000,1796560709000,'d524403db8bc7c917bc59ebee154e9c7','',NULL,NULL,1,NULL,NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'8ee66350-0658-43c0-a598-a2a8c2581b45',NULL,'py_pickle',NULL,0);
INSERT INTO "workflow_status" VALUES('waiter-wf','PENDING','waiter',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560709000,1796560709000,'d524403db8bc7c917bc59ebee154e9c7','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'55c5f673-96ea-4e85-9ccc-7760eff051ae',NULL,'py_pickle',NULL,0);
INSERT INTO "workflow_status" VALUES('late-receiver-wf','PENDING','late_receiver',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560709000,1796560709000,'d524403db8bc7c917bc59ebee154e9c7','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'5bb1b96b-8e94-4df9-afff-4b33d7fe0a85',NULL,'py_pickle',NULL,0);
INSERT INTO "workflow_status" VALUES('queued-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560711000,1796560711000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,NULL,NULL,'py_pickle',NULL,0);
INSERT INTO "workflow_status" VALUES('queued-portable-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560711000,1796560711000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'{"namedArgs":{},"positionalArgs":[6]}',NULL,NULL,0,NULL,NULL,NULL,NULL,'portable_json',NULL,0);
CREATE INDEX workflow_status_created_at_index ON workflow_status (created_at);
CREATE INDEX workflow_status_executor_id_index ON workflow_status (executor_id);
CREATE INDEX workflow_status_status_index ON workflow_status (status);
CREATE UNIQUE INDEX uq_workflow_status_queue_name_dedup_id 
ON workflow_status (queue_name, deduplication_id);
CREATE INDEX idx_workflow_topic ON notifications (destination_uuid, topic);
CREATE INDEX "idx_workflow_status_queue_status_started"
ON "workflow_status" ("queue_name", "status", "started_at_epoch_ms");
CREATE INDEX "idx_workflow_status_forked_from" ON "workflow_status" ("forked_from");
CREATE INDEX "idx_workflow_status_parent_workflow_id" ON "workflow_status" ("parent_workflow_id");
CREATE INDEX "idx_notifications" ON "notifications" ("destination_uuid", "topic");
CREATE INDEX "idx_workflow_status_delayed" ON "workflow_status" ("delay_until_epoch_ms") WHERE status = 'DELAYED';
COMMIT;
