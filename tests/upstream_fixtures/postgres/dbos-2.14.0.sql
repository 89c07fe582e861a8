-- Written by upstream dbos 2.14.0 (tests/upstream_fixtures/generate.py)
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)


--
-- Name: dbos; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA dbos;


--
-- Name: notifications_function(); Type: FUNCTION; Schema: dbos; Owner: -
--

CREATE FUNCTION dbos.notifications_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload text := NEW.destination_uuid || '::' || NEW.topic;
BEGIN
    PERFORM pg_notify('dbos_notifications_channel', payload);
    RETURN NEW;
END;
$$;


--
-- Name: workflow_events_function(); Type: FUNCTION; Schema: dbos; Owner: -
--

CREATE FUNCTION dbos.workflow_events_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload text := NEW.workflow_uuid || '::' || NEW.key;
BEGIN
    PERFORM pg_notify('dbos_workflow_events_channel', payload);
    RETURN NEW;
END;
$$;




--
-- Name: application_versions; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.application_versions (
    version_id text NOT NULL,
    version_name text NOT NULL,
    version_timestamp bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    created_at bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL
);


--
-- Name: dbos_migrations; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.dbos_migrations (
    version bigint NOT NULL
);


--
-- Name: event_dispatch_kv; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.event_dispatch_kv (
    service_name text NOT NULL,
    workflow_fn_name text NOT NULL,
    key text NOT NULL,
    value text,
    update_seq numeric(38,0),
    update_time numeric(38,15)
);


--
-- Name: notifications; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.notifications (
    message_uuid text DEFAULT gen_random_uuid() NOT NULL,
    destination_uuid text NOT NULL,
    topic text,
    message text NOT NULL,
    created_at_epoch_ms bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    serialization text,
    consumed boolean DEFAULT false NOT NULL
);


--
-- Name: operation_outputs; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.operation_outputs (
    workflow_uuid text NOT NULL,
    function_id integer NOT NULL,
    function_name text DEFAULT ''::text NOT NULL,
    output text,
    error text,
    child_workflow_id text,
    started_at_epoch_ms bigint,
    completed_at_epoch_ms bigint,
    serialization text
);


--
-- Name: streams; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.streams (
    workflow_uuid text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    "offset" integer NOT NULL,
    function_id integer DEFAULT 0 NOT NULL,
    serialization text
);


--
-- Name: workflow_events; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_events (
    workflow_uuid text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    serialization text
);


--
-- Name: workflow_events_history; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_events_history (
    workflow_uuid text NOT NULL,
    function_id integer NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    serialization text
);


--
-- Name: workflow_schedules; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_schedules (
    schedule_id text NOT NULL,
    schedule_name text NOT NULL,
    workflow_name text NOT NULL,
    workflow_class_name text,
    schedule text NOT NULL,
    status text DEFAULT 'ACTIVE'::text NOT NULL,
    context text NOT NULL
);


--
-- Name: workflow_status; Type: TABLE; Schema: dbos; Owner: -
--

CREATE TABLE dbos.workflow_status (
    workflow_uuid text NOT NULL,
    status text,
    name text,
    authenticated_user text,
    assumed_role text,
    authenticated_roles text,
    request text,
    output text,
    error text,
    executor_id text,
    created_at bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    updated_at bigint DEFAULT ((EXTRACT(epoch FROM now()) * 1000.0))::bigint NOT NULL,
    application_version text,
    application_id text,
    class_name character varying(255) DEFAULT NULL::character varying,
    config_name character varying(255) DEFAULT NULL::character varying,
    recovery_attempts bigint DEFAULT 0,
    queue_name text,
    workflow_timeout_ms bigint,
    workflow_deadline_epoch_ms bigint,
    inputs text,
    started_at_epoch_ms bigint,
    deduplication_id text,
    priority integer DEFAULT 0 NOT NULL,
    queue_partition_key text,
    forked_from text,
    owner_xid text,
    parent_workflow_id text,
    serialization text
);


--
-- Data for Name: application_versions; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.application_versions (version_id, version_name, version_timestamp, created_at) FROM stdin;
587c30ad-3597-44af-a9ea-74eeace0c352	3d8b65467bb678a3efdfa2dce26b4498	1796555611848	1796555611848
\.


--
-- Data for Name: dbos_migrations; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.dbos_migrations (version) FROM stdin;
13
\.


--
-- Data for Name: event_dispatch_kv; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.event_dispatch_kv (service_name, workflow_fn_name, key, value, update_seq, update_time) FROM stdin;
\.


--
-- Data for Name: notifications; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.notifications (message_uuid, destination_uuid, topic, message, created_at_epoch_ms, serialization, consumed) FROM stdin;
cc0b4978-b681-482a-aa1a-86a1df8b7adf	late-receiver-wf	note	gASVCQAAAAAAAACMBWhlbGxvlC4=	1796555612155	py_pickle	f
\.


--
-- Data for Name: operation_outputs; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.operation_outputs (workflow_uuid, function_id, function_name, output, error, child_workflow_id, started_at_epoch_ms, completed_at_epoch_ms, serialization) FROM stdin;
finished-wf	1	double	gARLKi4=	\N	\N	1796555611890	1796555611897	py_pickle
finished-wf	2	DBOS.setEvent	\N	\N	\N	1796555611906	1796555611915	\N
finished-wf	3	DBOS.writeStream	\N	\N	\N	1796555611918	1796555611929	\N
finished-wf	4	DBOS.writeStream	\N	\N	\N	1796555611934	1796555611939	\N
finished-wf	5	DBOS.writeStream	\N	\N	\N	1796555611942	1796555611944	\N
finished-wf	6	DBOS.closeStream	\N	\N	\N	1796555611956	1796555611963	\N
portable-wf	1	DBOS.setEvent	\N	\N	\N	1796555612002	1796555612014	\N
waiter-wf	1	double	gARLAi4=	\N	\N	1796555612048	1796555612058	py_pickle
sleeper-wf	1	double	gARLDi4=	\N	\N	1796555612043	1796555612056	py_pickle
waiter-wf	3	DBOS.sleep	1796559212.0768237	\N	\N	1796555612074	1796555612076	portable_json
late-receiver-wf	1	double	gARLBC4=	\N	\N	1796555612072	1796555612084	py_pickle
sleeper-wf	2	DBOS.sleep	1796555632.0743217	\N	\N	1796555612069	1796555612074	portable_json
late-receiver-wf	2	DBOS.sleep	1796555632.0909684	\N	\N	1796555612088	1796555612091	portable_json
\.


--
-- Data for Name: streams; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.streams (workflow_uuid, key, value, "offset", function_id, serialization) FROM stdin;
finished-wf	progress	gARLAC4=	0	3	py_pickle
finished-wf	progress	gARLAS4=	1	4	py_pickle
finished-wf	progress	gARLAi4=	2	5	py_pickle
finished-wf	progress	"__DBOS_STREAM_CLOSED__"	3	6	portable_json
\.


--
-- Data for Name: workflow_events; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_events (workflow_uuid, key, value, serialization) FROM stdin;
finished-wf	status	gASVCwAAAAAAAACMB3NoaXBwZWSULg==	py_pickle
portable-wf	greeting	"hello bob"	portable_json
\.


--
-- Data for Name: workflow_events_history; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_events_history (workflow_uuid, function_id, key, value, serialization) FROM stdin;
finished-wf	2	status	gASVCwAAAAAAAACMB3NoaXBwZWSULg==	py_pickle
portable-wf	1	greeting	"hello bob"	portable_json
\.


--
-- Data for Name: workflow_schedules; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_schedules (schedule_id, schedule_name, workflow_name, workflow_class_name, schedule, status, context) FROM stdin;
7ea98126-22a3-4774-a79a-b787f2004de0	nightly	nightly	\N	0 3 * * *	ACTIVE	gAROLg==
\.


--
-- Data for Name: workflow_status; Type: TABLE DATA; Schema: dbos; Owner: -
--

COPY dbos.workflow_status (workflow_uuid, status, name, authenticated_user, assumed_role, authenticated_roles, request, output, error, executor_id, created_at, updated_at, application_version, application_id, class_name, config_name, recovery_attempts, queue_name, workflow_timeout_ms, workflow_deadline_epoch_ms, inputs, started_at_epoch_ms, deduplication_id, priority, queue_partition_key, forked_from, owner_xid, parent_workflow_id, serialization) FROM stdin;
finished-wf	SUCCESS	finished_wf	\N	\N	\N	\N	gASVHwAAAAAAAAB9lCiMBW9yZGVylIwFYWxwaGGUjAV0b3RhbJRLKnUu	\N	local	1796555611877	1796555611974	3d8b65467bb678a3efdfa2dce26b4498		\N	\N	1	\N	\N	\N	gASVIQAAAAAAAAB9lCiMBGFyZ3OUjAVhbHBoYZSFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	3cd33bf2-890c-4d42-9d6d-8bad127cffc6	\N	py_pickle
failing-wf	ERROR	failing_wf	\N	\N	\N	\N	\N	gASVMwAAAAAAAACMCGJ1aWx0aW5zlIwKVmFsdWVFcnJvcpSTlIwRcmVmdXNlZDogbm8gc3RvY2uUhZRSlC4=	local	1796555611980	1796555611983	3d8b65467bb678a3efdfa2dce26b4498		\N	\N	1	\N	\N	\N	gASVJAAAAAAAAAB9lCiMBGFyZ3OUjAhubyBzdG9ja5SFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	77c3ba70-bc87-4c99-9879-3096e6c365b1	\N	py_pickle
portable-wf	SUCCESS	portable_wf	\N	\N	\N	\N	{"name":"bob","items":[1,2,3]}	\N	local	1796555611993	1796555612024	3d8b65467bb678a3efdfa2dce26b4498		\N	\N	1	\N	\N	\N	{"namedArgs":{},"positionalArgs":["bob"]}	\N	\N	0	\N	\N	383b501e-d39b-4158-953c-9beb45ea08cd	\N	portable_json
sleeper-wf	PENDING	sleeper	\N	\N	\N	\N	\N	\N	local	1796555612035	1796555612035	3d8b65467bb678a3efdfa2dce26b4498		\N	\N	1	\N	\N	\N	gASVGwAAAAAAAAB9lCiMBGFyZ3OUSweFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	00732ee1-44a2-4e3d-b7ef-7de8054c764a	\N	py_pickle
waiter-wf	PENDING	waiter	\N	\N	\N	\N	\N	\N	local	1796555612044	1796555612044	3d8b65467bb678a3efdfa2dce26b4498		\N	\N	1	\N	\N	\N	gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	eae3b958-d503-4011-b178-9306cf303f85	\N	py_pickle
late-receiver-wf	PENDING	late_receiver	\N	\N	\N	\N	\N	\N	local	1796555612058	1796555612058	3d8b65467bb678a3efdfa2dce26b4498		\N	\N	1	\N	\N	\N	gASVGAAAAAAAAAB9lCiMBGFyZ3OUKYwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	cde6f75c-dd51-4555-aa94-61b5b5ef600c	\N	py_pickle
queued-wf	ENQUEUED	queued_wf	\N	\N	\N	\N	\N	\N	\N	1796555612869	1796555612869	\N	\N	\N	\N	0	fixture_queue	\N	\N	gASVGwAAAAAAAAB9lCiMBGFyZ3OUSwWFlIwGa3dhcmdzlH2UdS4=	\N	\N	0	\N	\N	\N	\N	py_pickle
queued-portable-wf	ENQUEUED	queued_wf	\N	\N	\N	\N	\N	\N	\N	1796555612873	1796555612873	\N	\N	\N	\N	0	fixture_queue	\N	\N	{"namedArgs":{},"positionalArgs":[6]}	\N	\N	0	\N	\N	\N	\N	portable_json
\.


--
-- Name: application_versions application_versions_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.application_versions
    ADD CONSTRAINT application_versions_pkey PRIMARY KEY (version_id);


--
-- Name: application_versions application_versions_version_name_key; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.application_versions
    ADD CONSTRAINT application_versions_version_name_key UNIQUE (version_name);


--
-- Name: dbos_migrations dbos_migrations_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.dbos_migrations
    ADD CONSTRAINT dbos_migrations_pkey PRIMARY KEY (version);


--
-- Name: event_dispatch_kv event_dispatch_kv_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.event_dispatch_kv
    ADD CONSTRAINT event_dispatch_kv_pkey PRIMARY KEY (service_name, workflow_fn_name, key);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (message_uuid);


--
-- Name: operation_outputs operation_outputs_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.operation_outputs
    ADD CONSTRAINT operation_outputs_pkey PRIMARY KEY (workflow_uuid, function_id);


--
-- Name: streams streams_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.streams
    ADD CONSTRAINT streams_pkey PRIMARY KEY (workflow_uuid, key, "offset");


--
-- Name: workflow_status uq_workflow_status_queue_name_dedup_id; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_status
    ADD CONSTRAINT uq_workflow_status_queue_name_dedup_id UNIQUE (queue_name, deduplication_id);


--
-- Name: workflow_events_history workflow_events_history_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events_history
    ADD CONSTRAINT workflow_events_history_pkey PRIMARY KEY (workflow_uuid, function_id, key);


--
-- Name: workflow_events workflow_events_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events
    ADD CONSTRAINT workflow_events_pkey PRIMARY KEY (workflow_uuid, key);


--
-- Name: workflow_schedules workflow_schedules_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_schedules
    ADD CONSTRAINT workflow_schedules_pkey PRIMARY KEY (schedule_id);


--
-- Name: workflow_schedules workflow_schedules_schedule_name_key; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_schedules
    ADD CONSTRAINT workflow_schedules_schedule_name_key UNIQUE (schedule_name);


--
-- Name: workflow_status workflow_status_pkey; Type: CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_status
    ADD CONSTRAINT workflow_status_pkey PRIMARY KEY (workflow_uuid);


--
-- Name: idx_notifications; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_notifications ON dbos.notifications USING btree (destination_uuid, topic);


--
-- Name: idx_workflow_status_forked_from; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_status_forked_from ON dbos.workflow_status USING btree (forked_from);


--
-- Name: idx_workflow_status_parent_workflow_id; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_status_parent_workflow_id ON dbos.workflow_status USING btree (parent_workflow_id);


--
-- Name: idx_workflow_status_queue_status_started; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_status_queue_status_started ON dbos.workflow_status USING btree (queue_name, status, started_at_epoch_ms);


--
-- Name: idx_workflow_topic; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX idx_workflow_topic ON dbos.notifications USING btree (destination_uuid, topic);


--
-- Name: workflow_status_created_at_index; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX workflow_status_created_at_index ON dbos.workflow_status USING btree (created_at);


--
-- Name: workflow_status_executor_id_index; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX workflow_status_executor_id_index ON dbos.workflow_status USING btree (executor_id);


--
-- Name: workflow_status_status_index; Type: INDEX; Schema: dbos; Owner: -
--

CREATE INDEX workflow_status_status_index ON dbos.workflow_status USING btree (status);


--
-- Name: notifications dbos_notifications_trigger; Type: TRIGGER; Schema: dbos; Owner: -
--

CREATE TRIGGER dbos_notifications_trigger AFTER INSERT ON dbos.notifications FOR EACH ROW EXECUTE FUNCTION dbos.notifications_function();


--
-- Name: workflow_events dbos_workflow_events_trigger; Type: TRIGGER; Schema: dbos; Owner: -
--

CREATE TRIGGER dbos_workflow_events_trigger AFTER INSERT ON dbos.workflow_events FOR EACH ROW EXECUTE FUNCTION dbos.workflow_events_function();


--
-- Name: notifications notifications_destination_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.notifications
    ADD CONSTRAINT notifications_destination_uuid_fkey FOREIGN KEY (destination_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: operation_outputs operation_outputs_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.operation_outputs
    ADD CONSTRAINT operation_outputs_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: streams streams_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.streams
    ADD CONSTRAINT streams_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: workflow_events_history workflow_events_history_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events_history
    ADD CONSTRAINT workflow_events_history_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: workflow_events workflow_events_workflow_uuid_fkey; Type: FK CONSTRAINT; Schema: dbos; Owner: -
--

ALTER TABLE ONLY dbos.workflow_events
    ADD CONSTRAINT workflow_events_workflow_uuid_fkey FOREIGN KEY (workflow_uuid) REFERENCES dbos.workflow_status(workflow_uuid) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


