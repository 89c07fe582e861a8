-- Written by upstream dbos 2.14.0 (tests/upstream_fixtures/generate.py)
BEGIN TRANSACTION;
CREATE TABLE application_versions (
    version_id TEXT NOT NULL PRIMARY KEY,
    version_name TEXT NOT NULL UNIQUE,
    version_timestamp INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    created_at INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000)
);
INSERT INTO "application_versions" VALUES('7376ec64-f04a-4cc7-b676-95f8b5d55be8','71c8f2d9b008fc2e5e2fc928b5cbc3ab',1796560699000,1796560699000);
CREATE TABLE dbos_migrations (version INTEGER NOT NULL PRIMARY KEY);
INSERT INTO "dbos_migrations" VALUES(12);
CREATE TABLE notifications (
    message_uuid TEXT NOT NULL DEFAULT (hex(randomblob(16))) PRIMARY KEY,
    destination_uuid TEXT NOT NULL,
    topic TEXT,
    message TEXT NOT NULL,
    created_at_epoch_ms INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000), "serialization" TEXT DEFAULT NULL, "consumed" BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (destination_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "notifications" VALUES('b8ac5a09-12bc-4d46-8cad-b1952f2caaef','late-receiver-wf','note','gASVCQAAAAAAAACMBWhlbGxvlC4=',1796560699000,'py_pickle',0);
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
INSERT INTO "operation_outputs" VALUES('finished-wf',1,'double','gARLKi4=',NULL,NULL,1796560699652,1796560699654,'py_pickle');
INSERT INTO "operation_outputs" VALUES('finished-wf',2,'DBOS.setEvent',NULL,NULL,NULL,1796560699660,1796560699663,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',3,'DBOS.writeStream',NULL,NULL,NULL,1796560699665,1796560699668,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',4,'DBOS.writeStream',NULL,NULL,NULL,1796560699671,1796560699672,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',5,'DBOS.writeStream',NULL,NULL,NULL,1796560699674,1796560699675,NULL);
INSERT INTO "operation_outputs" VALUES('finished-wf',6,'DBOS.closeStream',NULL,NULL,NULL,1796560699678,1796560699680,NULL);
INSERT INTO "operation_outputs" VALUES('portable-wf',1,'DBOS.setEvent',NULL,NULL,NULL,1796560699694,1796560699695,NULL);
INSERT INTO "operation_outputs" VALUES('sleeper-wf',1,'double','gARLDi4=',NULL,NULL,1796560699708,1796560699713,'py_pickle');
INSERT INTO "operation_outputs" VALUES('sleeper-wf',2,'DBOS.sleep','1796560719.71737',NULL,NULL,1796560699716,1796560699717,'portable_json');
INSERT INTO "operation_outputs" VALUES('waiter-wf',1,'double','gARLAi4=',NULL,NULL,1796560699714,1796560699725,'py_pickle');
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',1,'double','gARLBC4=',NULL,NULL,1796560699722,1796560699730,'py_pickle');
INSERT INTO "operation_outputs" VALUES('waiter-wf',3,'DBOS.sleep','2796560699.7337637',NULL,NULL,1796560699733,1796560699733,'portable_json');
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',2,'DBOS.sleep','1796560719.7359245',NULL,NULL,1796560699732,1796560699735,'portable_json');
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
);
INSERT INTO "workflow_schedules" VALUES('c1413893-5a07-4edc-a1ba-37a5bd495493','nightly','nightly',NULL,'0 3 * * *','ACTIVE','gAROLg==');
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
, queue_partition_key TEXT, forked_from TEXT, "owner_xid" TEXT DEFAULT NULL, "parent_workflow_id" TEXT DEFAULT NULL, "serialization" TEXT DEFAULT NULL);
INSERT INTO "workflow_status" VALUES('finished-wf','SUCCESS','finished_wf',NULL,NULL,NULL,NULL,'gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu',NULL,'local',1796560699000,1796560699000,'71c8f2d9b008fc2e5e2fc928b5cbc3ab','',NULL,NULL,1,NULL,NULL,NULL,'gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'b1c5a2bd-7591-4e9b-86c3-d03bc6b0ab70',NULL,'py_pickle');
INSERT INTO "workflow_status" VALUES('failing-wf','ERROR','failing_wf',NULL,NULL,NULL,NULL,NULL,'gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=','local',1796560699000,1796560699000,'71c8f2d9b008fc2e5e2fc928b5cbc3ab','',NULL,NULL,1,NULL,NULL,NULL,'gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'78fd0978-dddc-491b-8e07-93f9c1f9c64a',NULL,'py_pickle');
INSERT INTO "workflow_status" VALUES('portable-wf','SUCCESS','portable_wf',NULL,NULL,NULL,NULL,'{"name":"bob","items":[1,2,3]}',NULL,'local',1796560699000,1796560699000,'71c8f2d9b008fc2e5e2fc928b5cbc3ab','',NULL,NULL,1,NULL,NULL,NULL,'{"namedArgs":{},"positionalArgs":["bob"]}',NULL,NULL,0,NULL,NULL,'051ab2eb-77f9-4152-ab00-4eebbbca78c6',NULL,'portable_json');
INSERT INTO "workflow_status" VALUES('sleeper-wf','PENDING','sleeper',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560699000,1796560699000,'71c8f2d9b008fc2e5e2fc928b5cbc3ab','',NULL,NULL,1,NULL,NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'014d93c8-0070-4980-9753-90130a65f374',NULL,'py_pickle');
INSERT INTO "workflow_status" VALUES('waiter-wf','PENDING','waiter',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560699000,1796560699000,'71c8f2d9b008fc2e5e2fc928b5cbc3ab','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'c64d466d-04d9-4c9d-90d1-671446f7220a',NULL,'py_pickle');
INSERT INTO "workflow_status" VALUES('late-receiver-wf','PENDING','late_receiver',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560699000,1796560699000,'71c8f2d9b008fc2e5e2fc928b5cbc3ab','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'01e48bfb-b4aa-48a3-a736-4881c9ee85e6',NULL,'py_pickle');
INSERT INTO "workflow_status" VALUES('queued-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560700000,1796560700000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,NULL,NULL,'py_pickle');
INSERT INTO "workflow_status" VALUES('queued-portable-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560700000,1796560700000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'{"namedArgs":{},"positionalArgs":[6]}',NULL,NULL,0,NULL,NULL,NULL,NULL,'portable_json');
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
COMMIT;
