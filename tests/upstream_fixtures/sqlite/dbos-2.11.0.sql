-- Written by upstream dbos 2.11.0 (tests/upstream_fixtures/generate.py)
BEGIN TRANSACTION;
CREATE TABLE dbos_migrations (version INTEGER NOT NULL PRIMARY KEY);
INSERT INTO "dbos_migrations" VALUES(8);
CREATE TABLE notifications (
    destination_uuid TEXT NOT NULL,
    topic TEXT,
    message TEXT NOT NULL,
    created_at_epoch_ms INTEGER NOT NULL DEFAULT (strftime('%s','now') * 1000),
    message_uuid TEXT NOT NULL DEFAULT (hex(randomblob(16))),
    FOREIGN KEY (destination_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "notifications" VALUES('late-receiver-wf','note','gASVCQAAAAAAAACMBWhlbGxvlC4=',1796560688000,'726E4F97FC119562084AA8ACC706BBE9');
CREATE TABLE operation_outputs (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    function_name TEXT NOT NULL DEFAULT '',
    output TEXT,
    error TEXT,
    child_workflow_id TEXT, started_at_epoch_ms BIGINT, completed_at_epoch_ms BIGINT,
    PRIMARY KEY (workflow_uuid, function_id),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "operation_outputs" VALUES('finished-wf',1,'double','gARLKi4=',NULL,NULL,1796560688223,1796560688226);
INSERT INTO "operation_outputs" VALUES('finished-wf',2,'DBOS.setEvent',NULL,NULL,NULL,1796560688230,1796560688232);
INSERT INTO "operation_outputs" VALUES('finished-wf',3,'DBOS.writeStream',NULL,NULL,NULL,1796560688235,1796560688239);
INSERT INTO "operation_outputs" VALUES('finished-wf',4,'DBOS.writeStream',NULL,NULL,NULL,1796560688242,1796560688243);
INSERT INTO "operation_outputs" VALUES('finished-wf',5,'DBOS.writeStream',NULL,NULL,NULL,1796560688248,1796560688250);
INSERT INTO "operation_outputs" VALUES('finished-wf',6,'DBOS.closeStream',NULL,NULL,NULL,1796560688259,1796560688265);
INSERT INTO "operation_outputs" VALUES('sleeper-wf',1,'double','gARLDi4=',NULL,NULL,1796560688299,1796560688300);
INSERT INTO "operation_outputs" VALUES('sleeper-wf',2,'DBOS.sleep','gASVCgAAAAAAAABHQdrFVdETelYu',NULL,NULL,1796560688303,1796560688304);
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',1,'double','gARLBC4=',NULL,NULL,1796560688333,1796560688338);
INSERT INTO "operation_outputs" VALUES('late-receiver-wf',2,'DBOS.sleep','gASVCgAAAAAAAABHQdrFVdEWEJUu',NULL,NULL,1796560688343,1796560688344);
INSERT INTO "operation_outputs" VALUES('waiter-wf',1,'double','gARLAi4=',NULL,NULL,1796560688315,1796560688359);
INSERT INTO "operation_outputs" VALUES('waiter-wf',3,'DBOS.sleep','gASVCgAAAAAAAABHQeTWBCYLs1Yu',NULL,NULL,1796560688365,1796560688365);
INSERT INTO "operation_outputs" VALUES('c81ced0f-6491-4c88-b795-df336c3e59c0',1,'DBOS.send',NULL,NULL,NULL,1796560688394,1796560688397);
CREATE TABLE streams (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    "offset" INTEGER NOT NULL, function_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workflow_uuid, key, "offset"),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAC4=',0,3);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAS4=',1,4);
INSERT INTO "streams" VALUES('finished-wf','progress','gARLAi4=',2,5);
INSERT INTO "streams" VALUES('finished-wf','progress','gASVGgAAAAAAAACMFl9fREJPU19TVFJFQU1fQ0xPU0VEX1+ULg==',3,6);
CREATE TABLE workflow_events (
    workflow_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workflow_uuid, key),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid) 
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "workflow_events" VALUES('finished-wf','status','gASVCwAAAAAAAACMB3NoaXBwZWSULg==');
CREATE TABLE workflow_events_history (
    workflow_uuid TEXT NOT NULL,
    function_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (workflow_uuid, function_id, key),
    FOREIGN KEY (workflow_uuid) REFERENCES workflow_status(workflow_uuid)
        ON UPDATE CASCADE ON DELETE CASCADE
);
INSERT INTO "workflow_events_history" VALUES('finished-wf',2,'status','gASVCwAAAAAAAACMB3NoaXBwZWSULg==');
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
, queue_partition_key TEXT, forked_from TEXT, "owner_xid" TEXT DEFAULT NULL, "parent_workflow_id" TEXT DEFAULT NULL);
INSERT INTO "workflow_status" VALUES('finished-wf','SUCCESS','finished_wf',NULL,NULL,NULL,NULL,'gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu',NULL,'local',1796560688000,1796560688000,'8dff17cd7e0e1f0d830c277236d7fb4f','',NULL,NULL,1,NULL,NULL,NULL,'gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'cddc0d74-4f32-4394-b520-c1a0ae60cba6',NULL);
INSERT INTO "workflow_status" VALUES('failing-wf','ERROR','failing_wf',NULL,NULL,NULL,NULL,NULL,'gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=','local',1796560688000,1796560688000,'8dff17cd7e0e1f0d830c277236d7fb4f','',NULL,NULL,1,NULL,NULL,NULL,'gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'9c4aaa00-7d11-4959-97d4-7e6a1b36aaf7',NULL);
INSERT INTO "workflow_status" VALUES('sleeper-wf','PENDING','sleeper',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560688000,1796560688000,'8dff17cd7e0e1f0d830c277236d7fb4f','',NULL,NULL,1,NULL,NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'8b6b7ee9-4d38-425d-b369-e7054888e043',NULL);
INSERT INTO "workflow_status" VALUES('waiter-wf','PENDING','waiter',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560688000,1796560688000,'8dff17cd7e0e1f0d830c277236d7fb4f','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'bf3b7115-8c9f-4025-b511-b76234172a94',NULL);
INSERT INTO "workflow_status" VALUES('late-receiver-wf','PENDING','late_receiver',NULL,NULL,NULL,NULL,NULL,NULL,'local',1796560688000,1796560688000,'8dff17cd7e0e1f0d830c277236d7fb4f','',NULL,NULL,1,NULL,NULL,NULL,'gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,'9d323ed1-519d-4140-9c0f-84b66c24330d',NULL);
INSERT INTO "workflow_status" VALUES('c81ced0f-6491-4c88-b795-df336c3e59c0','SUCCESS','<temp>.temp_send_workflow',NULL,NULL,NULL,NULL,'gAROLg==',NULL,'local',1796560688000,1796560688000,'8dff17cd7e0e1f0d830c277236d7fb4f','',NULL,NULL,1,NULL,NULL,NULL,'gASVOwAAAAAAAAB9lCiMBGFyZ3OUjBBsYXRlLXJlY2VpdmVyLXdmlIwFaGVsbG+UjARub3RllIeUjAZrd2FyZ3OUfZR1Lg==',NULL,NULL,0,NULL,NULL,'33364f65-c68e-481c-a0c2-20ea137407d8',NULL);
INSERT INTO "workflow_status" VALUES('queued-wf','ENQUEUED','queued_wf',NULL,NULL,NULL,NULL,NULL,NULL,NULL,1796560689000,1796560689000,NULL,NULL,NULL,NULL,0,'fixture_queue',NULL,NULL,'gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=',NULL,NULL,0,NULL,NULL,NULL,NULL);
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
COMMIT;
