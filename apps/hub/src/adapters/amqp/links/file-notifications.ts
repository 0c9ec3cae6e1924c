/**
 * The service's file-notification receiver (our sender on `/messages/serviceBound/filenotifications`,
 * digest §8): one message per completed upload, its body IoT Hub's file notification JSON. The
 * pump and the disposition rules are record-sender.ts's; notifications live in the file upload
 * service, which announces none, so new ones go out on the next poll.
 * @module
 */

import { fileNotificationBody } from '@tributary/core';
import rhea, { type Message, type Sender } from 'rhea';
import type { AmqpAdapterDeps } from '../deps.ts';
import { openRecordSender } from './record-sender.ts';

/** How long a sent notification stays locked before it can go out again unacknowledged. */
const NOTIFICATION_LOCK_MS = 60_000;

export function openFileNotificationSender(sender: Sender, deps: AmqpAdapterDeps): void {
  openRecordSender(
    sender,
    {
      name: 'file_notification',
      async take() {
        const [notification] = await deps.files.takeNotifications(1, NOTIFICATION_LOCK_MS);
        if (!notification) return undefined;
        return {
          message: {
            content_type: 'application/json',
            user_id: deps.eventHubName,
            body: rhea.message.data_section(Buffer.from(JSON.stringify(fileNotificationBody(notification)))),
          } as Message,
          ids: [notification.id],
        };
      },
      accept: (ids) => deps.files.deleteNotifications(ids),
      drop: (ids) => deps.files.deleteNotifications(ids),
      release: (ids) => deps.files.releaseNotifications(ids),
      onNew: () => () => {},
    },
    deps,
  );
}
