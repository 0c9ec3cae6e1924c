CREATE TABLE "c2d_feedback" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "c2d_feedback_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"original_message_id" text NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"device_generation_id" text NOT NULL,
	"status_code" text NOT NULL,
	"description" text NOT NULL,
	"enqueued_time" timestamp(3) with time zone NOT NULL,
	"locked_until" timestamp(3) with time zone
);
--> statement-breakpoint
CREATE TABLE "c2d_messages" (
	"sequence_number" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "c2d_messages_sequence_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" text COLLATE "C" NOT NULL,
	"device_generation_id" text NOT NULL,
	"message_id" text NOT NULL,
	"ack" text NOT NULL,
	"enqueued_time" timestamp(3) with time zone NOT NULL,
	"expiry_time" timestamp(3) with time zone NOT NULL,
	"delivery_count" integer DEFAULT 0 NOT NULL,
	"lock_token" text,
	"locked_until" timestamp(3) with time zone,
	"system_properties" jsonb NOT NULL,
	"application_properties" jsonb NOT NULL,
	"body" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ca_certificates" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"pem" text NOT NULL,
	"thumbprint" text NOT NULL,
	"subject" text NOT NULL,
	"expiry" timestamp(3) with time zone NOT NULL,
	"is_verified" boolean DEFAULT false NOT NULL,
	"created_at" timestamp(3) with time zone NOT NULL,
	"updated_at" timestamp(3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "checkpoints" (
	"consumer_group" text COLLATE "C" NOT NULL,
	"partition_id" smallint NOT NULL,
	"sequence_number" bigint NOT NULL,
	"offset" bigint NOT NULL,
	"updated_at" timestamp(3) with time zone NOT NULL,
	CONSTRAINT "checkpoints_pkey" PRIMARY KEY("consumer_group","partition_id")
);
--> statement-breakpoint
CREATE TABLE "consumer_groups" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_partition_heads" (
	"partition_id" smallint PRIMARY KEY NOT NULL,
	"last_sequence_number" bigint NOT NULL,
	"last_offset" bigint NOT NULL,
	"next_offset" bigint NOT NULL,
	"last_enqueued_time" timestamp(3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"partition_id" smallint NOT NULL,
	"sequence_number" bigint NOT NULL,
	"offset" bigint NOT NULL,
	"enqueued_time" timestamp(3) with time zone NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"module_id" text COLLATE "C",
	"message_source" text NOT NULL,
	"system_properties" jsonb NOT NULL,
	"application_properties" jsonb NOT NULL,
	"body" "bytea" NOT NULL,
	CONSTRAINT "events_pkey" PRIMARY KEY("partition_id","sequence_number")
);
--> statement-breakpoint
ALTER TABLE "c2d_messages" ADD CONSTRAINT "c2d_messages_device_id_devices_device_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("device_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkpoints" ADD CONSTRAINT "checkpoints_consumer_group_fk" FOREIGN KEY ("consumer_group") REFERENCES "public"."consumer_groups"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "c2d_feedback_enqueued_time_idx" ON "c2d_feedback" USING btree ("enqueued_time");--> statement-breakpoint
CREATE INDEX "c2d_messages_device_sequence_idx" ON "c2d_messages" USING btree ("device_id","sequence_number");--> statement-breakpoint
CREATE UNIQUE INDEX "c2d_messages_lock_token_key" ON "c2d_messages" USING btree ("lock_token");--> statement-breakpoint
CREATE INDEX "c2d_messages_expiry_time_idx" ON "c2d_messages" USING btree ("expiry_time");--> statement-breakpoint
CREATE INDEX "events_partition_enqueued_time_idx" ON "events" USING btree ("partition_id","enqueued_time");--> statement-breakpoint
CREATE INDEX "events_partition_offset_idx" ON "events" USING btree ("partition_id","offset");