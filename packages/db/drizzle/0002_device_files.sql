CREATE TABLE "file_notifications" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "file_notifications_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_id" text COLLATE "C" NOT NULL,
	"blob_uri" text NOT NULL,
	"blob_name" text NOT NULL,
	"last_updated_time" timestamp(3) with time zone NOT NULL,
	"blob_size_in_bytes" bigint NOT NULL,
	"enqueued_time" timestamp(3) with time zone NOT NULL,
	"locked_until" timestamp(3) with time zone
);
--> statement-breakpoint
CREATE TABLE "file_uploads" (
	"correlation_id" text PRIMARY KEY NOT NULL,
	"device_id" text COLLATE "C" NOT NULL,
	"blob_name" text NOT NULL,
	"created_at" timestamp(3) with time zone NOT NULL,
	"expires_at" timestamp(3) with time zone NOT NULL,
	"state" text NOT NULL,
	"completed_at" timestamp(3) with time zone,
	"status_code" integer,
	"status_description" text
);
--> statement-breakpoint
CREATE INDEX "file_notifications_device_id_idx" ON "file_notifications" USING btree ("device_id","id");--> statement-breakpoint
CREATE INDEX "file_notifications_enqueued_time_idx" ON "file_notifications" USING btree ("enqueued_time");--> statement-breakpoint
CREATE INDEX "file_uploads_device_state_idx" ON "file_uploads" USING btree ("device_id","state");--> statement-breakpoint
CREATE INDEX "file_uploads_created_at_idx" ON "file_uploads" USING btree ("created_at");