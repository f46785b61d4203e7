// The `Store` implementation shared by both backends. Included into `sqlite` and `postgres`
// after `common.rs`; each backend supplies `Backend`, `BACKEND_NAME`, `read`, `write` and
// `write_atomic`.

#[async_trait::async_trait]
impl crate::Store for Backend {
    fn backend(&self) -> &'static str {
        BACKEND_NAME
    }

    async fn create_tenant(&self, t: &Tenant) -> Result<()> {
        let t = t.clone();
        self.write(move |c| Box::pin(async move { create_tenant(c, &t).await })).await
    }
    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        self.read(move |c| Box::pin(tenant(c, id))).await
    }
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        let slug = slug.to_string();
        self.read(move |c| { let slug = slug.clone(); Box::pin(async move { tenant_by_slug(c, &slug).await }) }).await
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        self.read(move |c| Box::pin(list_tenants(c))).await
    }

    async fn create_site(&self, s: &Site) -> Result<()> {
        let s = s.clone();
        self.write(move |c| Box::pin(async move { create_site(c, &s).await })).await
    }
    async fn list_sites(&self, t: TenantId) -> Result<Vec<Site>> {
        self.read(move |c| Box::pin(list_sites(c, t))).await
    }
    async fn create_location(&self, l: &Location) -> Result<()> {
        let l = l.clone();
        self.write(move |c| Box::pin(async move { create_location(c, &l).await })).await
    }
    async fn location(&self, t: TenantId, id: LocationId) -> Result<Option<Location>> {
        self.read(move |c| Box::pin(location(c, t, id))).await
    }
    async fn list_locations(&self, t: TenantId) -> Result<Vec<Location>> {
        self.read(move |c| Box::pin(list_locations(c, t))).await
    }

    async fn upsert_department(&self, d: &Department) -> Result<()> {
        let d = d.clone();
        self.write(move |c| Box::pin(async move { upsert_department(c, &d).await })).await
    }
    async fn department(&self, t: TenantId, id: DepartmentId) -> Result<Option<Department>> {
        self.read(move |c| Box::pin(department(c, t, id))).await
    }
    async fn department_by_code(&self, t: TenantId, code: &str) -> Result<Option<Department>> {
        let code = code.to_string();
        self.read(move |c| { let code = code.clone(); Box::pin(async move { department_by_code(c, t, &code).await }) }).await
    }
    async fn list_departments(&self, t: TenantId) -> Result<Vec<Department>> {
        self.read(move |c| Box::pin(list_departments(c, t))).await
    }
    async fn delete_department(&self, t: TenantId, id: DepartmentId) -> Result<()> {
        self.write(move |c| Box::pin(delete_department(c, t, id))).await
    }

    async fn upsert_person(&self, p: &Person) -> Result<()> {
        let p = p.clone();
        self.write(move |c| Box::pin(async move { upsert_person(c, &p).await })).await
    }
    async fn person(&self, t: TenantId, id: PersonId) -> Result<Option<Person>> {
        self.read(move |c| Box::pin(person(c, t, id))).await
    }
    async fn person_by_employee_no(&self, t: TenantId, no: &str) -> Result<Option<Person>> {
        let no = no.to_string();
        self.read(move |c| { let no = no.clone(); Box::pin(async move { person_by_employee_no(c, t, &no).await }) }).await
    }
    async fn search_people(&self, t: TenantId, q: &str, after: Option<PersonId>, limit: i64) -> Result<Vec<Person>> {
        let q = q.to_string();
        self.read(move |c| { let q = q.clone(); Box::pin(async move { search_people(c, t, &q, after, limit).await }) }).await
    }
    async fn count_people(&self, t: TenantId) -> Result<i64> {
        self.read(move |c| Box::pin(count_people(c, t))).await
    }
    async fn import_directory(&self, t: TenantId, import: DirectoryImport) -> Result<()> {
        self.write(move |c| Box::pin(async move { import_directory(c, t, &import).await })).await
    }
    async fn directory_version(&self, t: TenantId) -> Result<DirectoryVersion> {
        self.read(move |c| Box::pin(directory_version(c, t))).await
    }
    async fn people_changed_since(&self, t: TenantId, since: i64, limit: i64) -> Result<Vec<Person>> {
        self.read(move |c| Box::pin(people_changed_since(c, t, since, limit))).await
    }

    async fn create_user(&self, u: &User) -> Result<()> {
        let u = u.clone();
        self.write(move |c| Box::pin(async move { create_user(c, &u).await })).await
    }
    async fn user(&self, t: TenantId, id: UserId) -> Result<Option<User>> {
        self.read(move |c| Box::pin(user(c, t, id))).await
    }
    async fn user_by_login(&self, t: TenantId, login: &str) -> Result<Option<User>> {
        let login = login.to_string();
        self.read(move |c| { let login = login.clone(); Box::pin(async move { user_by_login(c, t, &login).await }) }).await
    }

    async fn list_users(&self, t: TenantId) -> Result<Vec<User>> {
        self.read(move |c| Box::pin(list_users(c, t))).await
    }

    async fn create_token(&self, tok: &ApiToken) -> Result<()> {
        let tok = tok.clone();
        self.write(move |c| Box::pin(async move { create_token(c, &tok).await })).await
    }

    async fn token(&self, t: TenantId, id: TokenId) -> Result<Option<ApiToken>> {
        self.read(move |c| Box::pin(token(c, t, id))).await
    }
    async fn list_tokens(&self, t: TenantId, user: Option<UserId>) -> Result<Vec<ApiToken>> {
        self.read(move |c| Box::pin(list_tokens(c, t, user))).await
    }
    async fn touch_token(&self, id: TokenId, at: chrono::DateTime<Utc>) -> Result<()> {
        self.write(move |c| Box::pin(touch_token(c, id, at))).await
    }

    async fn create_session(&self, s: &WebSession) -> Result<()> {
        let s = s.clone();
        self.write(move |c| Box::pin(async move { create_session(c, &s).await })).await
    }
    async fn session(&self, id_hash: &str) -> Result<Option<WebSession>> {
        let h = id_hash.to_string();
        self.read(move |c| { let h = h.clone(); Box::pin(async move { session(c, &h).await }) }).await
    }
    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let h = id_hash.to_string();
        self.write(move |c| Box::pin(async move { delete_session(c, &h).await })).await
    }

    async fn touch_session(&self, id_hash: &str, at: chrono::DateTime<Utc>) -> Result<()> {
        let h = id_hash.to_string();
        self.write(move |c| Box::pin(async move { touch_session(c, &h, at).await })).await
    }

    async fn login_throttle(&self, keys: &[ThrottleKey], now: chrono::DateTime<Utc>) -> Result<Vec<ThrottleEntry>> {
        let keys = keys.to_vec();
        self.read(move |c| { let keys = keys.clone(); Box::pin(async move { login_throttle(c, &keys, now).await }) }).await
    }
    async fn record_login_failure(
        &self,
        keys: &[(ThrottleKey, ThrottleRule)],
        now: chrono::DateTime<Utc>,
    ) -> Result<Vec<ThrottleEntry>> {
        let keys = keys.to_vec();
        self.write(move |c| Box::pin(async move { record_login_failure(c, &keys, now).await })).await
    }
    async fn clear_login_throttle(&self, key: &ThrottleKey) -> Result<bool> {
        let key = key.clone();
        self.write(move |c| Box::pin(async move { clear_login_throttle(c, &key).await })).await
    }
    async fn login_lockouts(&self, tenant_slug: &str, now: chrono::DateTime<Utc>) -> Result<Vec<ThrottleEntry>> {
        let slug = tenant_slug.to_string();
        self.read(move |c| { let slug = slug.clone(); Box::pin(async move { login_lockouts(c, &slug, now).await }) }).await
    }

    async fn admin_write(&self, t: TenantId, change: AdminChange, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { admin_write(c, t, &change, &actor, &event).await })).await
    }
    async fn audit_events(&self, t: TenantId, kind_prefix: Option<&str>, before: Option<i64>, limit: i64) -> Result<Vec<CustodyEvent>> {
        let prefix = kind_prefix.map(str::to_string);
        self.read(move |c| { let prefix = prefix.clone(); Box::pin(async move { audit_events(c, t, prefix.as_deref(), before, limit).await }) }).await
    }

    async fn attachment(&self, t: TenantId, id: AttachmentId) -> Result<Option<Attachment>> {
        self.read(move |c| Box::pin(attachment(c, t, id))).await
    }

    async fn idempotent_response(&self, t: TenantId, key: &str) -> Result<Option<(String, i64, String)>> {
        let key = key.to_string();
        self.read(move |c| { let key = key.clone(); Box::pin(async move { idempotent_response(c, t, &key).await }) }).await
    }
    async fn save_idempotent_response(&self, t: TenantId, key: &str, request_hash: &str, status: i64, body: &str) -> Result<()> {
        let (key, hash, body) = (key.to_string(), request_hash.to_string(), body.to_string());
        self.write(move |c| Box::pin(async move { save_idempotent_response(c, t, &key, &hash, status, &body).await })).await
    }

    async fn register_item(&self, ins: ItemInsert, actor: &Actor, event: EventDraft) -> Result<Registered> {
        let actor = actor.clone();
        let damaged = ins.item.condition == mailroom_domain::item::Condition::Damaged;
        if ins.exception.is_some() || damaged {
            self.write(move |c| Box::pin(async move { register_item(c, &ins, &actor, &event).await })).await
        } else {
            // The item with its event (and its idempotency key's record): the backend's
            // group-committed way.
            self.register_plain(ins, actor, event).await
        }
    }
    async fn change_item(&self, t: TenantId, id: ItemId, change: ItemChange, actor: &Actor, event: EventDraft) -> Result<Item> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { change_item(c, t, id, &change, &actor, &event).await })).await
    }
    async fn append_event(&self, t: TenantId, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { append_event(c, t, &actor, &event).await })).await
    }
    async fn add_item_photo(
        &self,
        t: TenantId,
        item: ItemId,
        photo: Attachment,
        added_by: Option<UserId>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<(ItemPhoto, CustodyEvent)> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { add_item_photo(c, t, item, &photo, added_by, &actor, &event).await }))
            .await
    }
    async fn item_photos(&self, t: TenantId, item: ItemId) -> Result<Vec<ItemPhoto>> {
        self.read(move |c| Box::pin(item_photos(c, t, item))).await
    }
    async fn item_photo(&self, t: TenantId, item: ItemId, id: AttachmentId) -> Result<Option<ItemPhoto>> {
        self.read(move |c| Box::pin(item_photo(c, t, item, id))).await
    }
    async fn amend_item(&self, amend: ItemAmend, actor: &Actor, event: EventDraft) -> Result<Item> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { amend_item(c, &amend, &actor, &event).await })).await
    }
    async fn exception(&self, t: TenantId, id: ExceptionId) -> Result<Option<ItemException>> {
        self.read(move |c| Box::pin(exception(c, t, id))).await
    }
    async fn open_exception_of_item(&self, t: TenantId, item: ItemId) -> Result<Option<ItemException>> {
        self.read(move |c| Box::pin(open_exception_of_item(c, t, item))).await
    }
    async fn list_exceptions(
        &self,
        t: TenantId,
        status: mailroom_domain::exception::ExceptionStatus,
        after: Option<ExceptionId>,
        limit: i64,
    ) -> Result<Vec<ItemException>> {
        self.read(move |c| Box::pin(list_exceptions(c, t, status, after, limit))).await
    }
    async fn item(&self, t: TenantId, id: ItemId) -> Result<Option<Item>> {
        self.read(move |c| Box::pin(item(c, t, id))).await
    }
    async fn list_items(&self, t: TenantId, f: &ItemFilter) -> Result<Vec<Item>> {
        self.read_items(t, f).await
    }
    async fn item_events(&self, t: TenantId, id: ItemId) -> Result<Vec<CustodyEvent>> {
        self.read(move |c| Box::pin(item_events(c, t, id))).await
    }
    async fn handover(&self, t: TenantId, id: ItemId) -> Result<Option<HandoverRecord>> {
        self.read(move |c| Box::pin(handover(c, t, id))).await
    }
    async fn count_items(&self, t: TenantId) -> Result<i64> {
        self.read(move |c| Box::pin(count_items(c, t))).await
    }

    async fn custody_head(&self, t: TenantId) -> Result<(i64, String)> {
        self.read(move |c| Box::pin(custody_head(c, t))).await
    }
    async fn custody_events(&self, t: TenantId, after_seq: i64, limit: i64) -> Result<Vec<CustodyEvent>> {
        self.read(move |c| Box::pin(custody_events(c, t, after_seq, limit))).await
    }

    async fn installation_key(&self, name: &str) -> Result<Option<InstallationKey>> {
        let name = name.to_string();
        self.read(move |c| { let name = name.clone(); Box::pin(async move { installation_key(c, &name).await }) }).await
    }
    async fn put_installation_key(&self, key: &InstallationKey) -> Result<InstallationKey> {
        let key = key.clone();
        self.write(move |c| Box::pin(async move { put_installation_key(c, &key).await })).await
    }
    async fn rewrap_installation_key(&self, name: &str, old_secret: &str, secret: &str, master_key_id: &str) -> Result<bool> {
        let (name, old, new, mk) = (name.to_string(), old_secret.to_string(), secret.to_string(), master_key_id.to_string());
        self.write(move |c| Box::pin(async move { rewrap_installation_key(c, &name, &old, &new, &mk).await })).await
    }
    async fn custody_hashes(&self, t: TenantId, upto: i64) -> Result<Vec<String>> {
        self.read(move |c| Box::pin(custody_hashes(c, t, upto))).await
    }
    async fn insert_checkpoint(&self, cp: &Checkpoint) -> Result<()> {
        let cp = cp.clone();
        self.write(move |c| Box::pin(async move { insert_checkpoint(c, &cp).await })).await
    }
    async fn checkpoints(&self, t: TenantId) -> Result<Vec<Checkpoint>> {
        self.read(move |c| Box::pin(checkpoints(c, t))).await
    }

    async fn user_clearance(&self, t: TenantId, user: UserId) -> Result<i64> {
        self.read(move |c| Box::pin(user_clearance(c, t, user))).await
    }
    async fn token_principal(&self, hash: &str) -> Result<Option<TokenPrincipal>> {
        self.read_token_principal(hash).await
    }
    async fn person_with_department(&self, t: TenantId, id: PersonId) -> Result<Option<(Person, Option<DepartmentNames>)>> {
        self.read_person_with_department(t, id).await
    }
    async fn user_principal(&self, t: TenantId, id: UserId) -> Result<Option<(User, Option<DepartmentId>, i64)>> {
        self.read(move |c| Box::pin(user_principal(c, t, id))).await
    }
    async fn set_user_clearance(&self, t: TenantId, user: UserId, level: i64) -> Result<()> {
        self.write(move |c| Box::pin(set_user_clearance(c, t, user, level))).await
    }
    async fn create_delegation(&self, d: &Delegation, actor: &Actor, event: EventDraft) -> Result<()> {
        let (d, actor) = (d.clone(), actor.clone());
        self.write(move |c| Box::pin(async move { create_delegation(c, &d, &actor, &event).await })).await
    }
    async fn delegation(&self, t: TenantId, id: DelegationId) -> Result<Option<Delegation>> {
        self.read(move |c| Box::pin(delegation(c, t, id))).await
    }
    async fn delegations_of(&self, t: TenantId, person: PersonId) -> Result<Vec<Delegation>> {
        self.read(move |c| Box::pin(delegations_of(c, t, person))).await
    }
    async fn revoke_delegation(
        &self,
        t: TenantId,
        id: DelegationId,
        at: chrono::DateTime<chrono::Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { revoke_delegation(c, t, id, at, &actor, &event).await })).await
    }
    async fn master_key_checks(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.read(move |c| Box::pin(master_key_checks(c))).await
    }
    async fn put_master_key_check(&self, id: &str, check: &[u8]) -> Result<Vec<u8>> {
        let (id, check) = (id.to_string(), check.to_vec());
        self.write(move |c| Box::pin(async move { put_master_key_check(c, &id, &check).await })).await
    }
    async fn master_keys_in_use(&self) -> Result<Vec<(String, i64)>> {
        self.read(move |c| Box::pin(master_keys_in_use(c))).await
    }
    async fn data_keys(&self, t: TenantId) -> Result<Vec<DataKey>> {
        self.read(move |c| Box::pin(data_keys(c, t))).await
    }
    async fn data_key(&self, t: TenantId, id: DataKeyId) -> Result<Option<DataKey>> {
        self.read(move |c| Box::pin(data_key(c, t, id))).await
    }
    async fn data_key_in_use(&self, t: TenantId, category: Category, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Option<DataKey>> {
        self.read(move |c| Box::pin(data_key_in_use(c, t, category, start, end))).await
    }
    async fn insert_data_key(&self, key: &DataKey) -> Result<DataKey> {
        let key = key.clone();
        self.write(move |c| Box::pin(async move { insert_data_key(c, &key).await })).await
    }
    async fn rewrap_data_key(&self, t: TenantId, id: DataKeyId, from: &str, to: &str, wrapped: &[u8]) -> Result<bool> {
        let (from, to, wrapped) = (from.to_string(), to.to_string(), wrapped.to_vec());
        self.write(move |c| Box::pin(async move { rewrap_data_key(c, t, id, &from, &to, &wrapped).await })).await
    }
    async fn retire_data_keys(&self, t: TenantId) -> Result<u64> {
        self.write(move |c| Box::pin(retire_data_keys(c, t))).await
    }
    async fn shred_data_key(&self, t: TenantId, id: DataKeyId, actor: &Actor, event: EventDraft) -> Result<Option<(CustodyEvent, i64)>> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { shred_data_key(c, t, id, &actor, &event).await })).await
    }
    async fn attachment_counts(&self, t: TenantId) -> Result<Vec<(Option<DataKeyId>, i64)>> {
        self.read(move |c| Box::pin(attachment_counts(c, t))).await
    }
    async fn plaintext_attachments(&self, t: TenantId, limit: i64) -> Result<Vec<(AttachmentId, Category)>> {
        self.read(move |c| Box::pin(plaintext_attachments(c, t, limit))).await
    }
    async fn seal_attachment(&self, t: TenantId, id: AttachmentId, sealed: &Sealed, data: &[u8]) -> Result<bool> {
        let (sealed, data) = (sealed.clone(), data.to_vec());
        self.write(move |c| Box::pin(async move { seal_attachment(c, t, id, &sealed, &data).await })).await
    }
    async fn rule_set(&self, t: TenantId, version: Option<i64>) -> Result<Option<StoredRuleSet>> {
        self.read(move |c| Box::pin(rule_set(c, t, version))).await
    }
    async fn rule_set_versions(&self, t: TenantId) -> Result<Vec<StoredRuleSet>> {
        self.read(move |c| Box::pin(rule_set_versions(c, t))).await
    }
    async fn save_rule_set(
        &self,
        t: TenantId,
        source: String,
        created_by: String,
        at: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<(StoredRuleSet, CustodyEvent)> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { save_rule_set(c, t, source, created_by, at, &actor, event).await }))
            .await
    }
    async fn retention_policies(&self, t: TenantId) -> Result<Vec<RetentionPolicy>> {
        self.read(move |c| Box::pin(retention_policies(c, t))).await
    }
    async fn set_retention_policies(&self, t: TenantId, policies: Vec<RetentionPolicy>, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { set_retention_policies(c, t, &policies, &actor, &event).await })).await
    }

    async fn bulk_register(&self, items: Vec<Item>, actor: &Actor) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { bulk_register(c, &items, &actor).await })).await
    }

    async fn put_assignment(&self, a: &Assignment) -> Result<()> {
        let a = a.clone();
        self.write(move |c| Box::pin(async move { put_assignment(c, &a).await })).await
    }
    async fn assignment(&self, t: TenantId, user: UserId) -> Result<Option<Assignment>> {
        self.read(move |c| Box::pin(assignment(c, t, user))).await
    }
    async fn list_assignments(&self, t: TenantId) -> Result<Vec<Assignment>> {
        self.read(move |c| Box::pin(list_assignments(c, t))).await
    }
    async fn user_assignments(&self, user: UserId) -> Result<Vec<Assignment>> {
        self.read(move |c| Box::pin(user_assignments(c, user))).await
    }
    async fn delete_assignment(&self, t: TenantId, user: UserId) -> Result<()> {
        self.write(move |c| Box::pin(delete_assignment(c, t, user))).await
    }
    async fn location_occupancy(&self, t: TenantId) -> Result<Vec<(LocationId, i64)>> {
        self.read(move |c| Box::pin(location_occupancy(c, t))).await
    }
    async fn item_counts(&self, t: TenantId) -> Result<Vec<ItemCount>> {
        self.read(move |c| Box::pin(item_counts(c, t))).await
    }

    async fn notify_cursor(&self, t: TenantId) -> Result<Option<i64>> {
        self.read(move |c| Box::pin(notify_cursor(c, t))).await
    }
    async fn advance_notify_cursor(&self, t: TenantId, seq: i64, at: DateTime<Utc>) -> Result<()> {
        self.write(move |c| Box::pin(advance_notify_cursor(c, t, seq, at))).await
    }
    async fn record_notification(&self, n: &NotificationRecord) -> Result<bool> {
        let n = n.clone();
        self.write(move |c| Box::pin(async move { record_notification(c, &n).await })).await
    }
    async fn notification_by_key(&self, t: TenantId, key: &str) -> Result<Option<NotificationRecord>> {
        let key = key.to_string();
        self.read(move |c| { let key = key.clone(); Box::pin(async move { notification_by_key(c, t, &key).await }) }).await
    }
    async fn item_notifications(&self, t: TenantId, item: ItemId) -> Result<Vec<NotificationRecord>> {
        self.read(move |c| Box::pin(item_notifications(c, t, item))).await
    }
    async fn recent_notifications(&self, t: TenantId, limit: i64) -> Result<Vec<NotificationRecord>> {
        self.read(move |c| Box::pin(recent_notifications(c, t, limit))).await
    }
    async fn pickup_code(&self, t: TenantId, item: ItemId, candidate: &str, at: DateTime<Utc>) -> Result<String> {
        let candidate = candidate.to_string();
        self.write(move |c| Box::pin(async move { pickup_code(c, t, item, &candidate, at).await })).await
    }
    async fn existing_pickup_code(&self, t: TenantId, item: ItemId) -> Result<Option<String>> {
        self.read(move |c| Box::pin(existing_pickup_code(c, t, item))).await
    }
    async fn open_task(&self, t: TenantId, item: ItemId, kind: &str, at: DateTime<Utc>) -> Result<bool> {
        let kind = kind.to_string();
        self.write(move |c| Box::pin(async move { open_task(c, t, item, &kind, at).await })).await
    }
    async fn list_tasks(&self, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<StaffTask>> {
        let status = status.map(str::to_string);
        self.read(move |c| { let status = status.clone(); Box::pin(async move { list_tasks(c, t, status.as_deref(), limit).await }) }).await
    }
    async fn task(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<StaffTask>> {
        self.read(move |c| Box::pin(task(c, t, id))).await
    }

    async fn cost_centres(&self, t: TenantId) -> Result<Vec<CostCentre>> {
        self.read(move |c| Box::pin(cost_centres(c, t))).await
    }
    async fn cost_centre(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<CostCentre>> {
        self.read(move |c| Box::pin(cost_centre(c, t, id, false))).await
    }
    async fn postage_accounts(&self, t: TenantId) -> Result<Vec<PostageAccount>> {
        self.read(move |c| Box::pin(postage_accounts(c, t))).await
    }
    async fn postage_account(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<PostageAccount>> {
        self.read(move |c| Box::pin(postage_account(c, t, id, false))).await
    }
    async fn postage_ledger(&self, t: TenantId, account: Option<uuid::Uuid>, limit: i64) -> Result<Vec<LedgerEntry>> {
        self.read(move |c| Box::pin(postage_ledger(c, t, account, limit))).await
    }
    async fn postage_spend(&self, t: TenantId, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<CostCentreSpend>> {
        self.read(move |c| Box::pin(postage_spend(c, t, from, to))).await
    }
    async fn postage_rates(&self, t: TenantId) -> Result<Vec<mailroom_domain::postage::RateRow>> {
        self.read(move |c| Box::pin(postage_rates(c, t))).await
    }
    async fn postage_post(
        &self,
        t: TenantId,
        mv: PostageMove,
        audit: Option<(Actor, EventDraft)>,
    ) -> Result<PostageOutcome> {
        self.write(move |c| {
            Box::pin(async move {
                let out = postage_post(c, t, &mv).await?;
                if let Some((actor, draft)) = &audit {
                    append_event(c, t, actor, draft).await?;
                }
                Ok(out)
            })
        })
        .await
    }
    async fn create_outbound(&self, t: TenantId, records: Vec<(OutboundRecord, EventDraft)>, actor: &Actor) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { create_outbound(c, t, &records, &actor).await })).await
    }
    async fn outbound(&self, t: TenantId, id: ItemId) -> Result<Option<OutboundRecord>> {
        self.read(move |c| Box::pin(outbound_record(c, t, id))).await
    }
    async fn list_outbound(&self, t: TenantId, f: &OutboundFilter) -> Result<Vec<OutboundRecord>> {
        let f = f.clone();
        self.read(move |c| { let f = f.clone(); Box::pin(async move { list_outbound(c, t, &f).await }) }).await
    }
    async fn change_outbound(
        &self,
        t: TenantId,
        id: ItemId,
        change: OutboundChange,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<OutboundRecord> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { change_outbound(c, t, id, &change, &actor, &event).await })).await
    }
    async fn create_batch(
        &self,
        t: TenantId,
        batch: DispatchBatch,
        changes: Vec<(ItemId, OutboundChange, EventDraft)>,
        actor: &Actor,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                insert_batch(c, t, &batch).await?;
                for (id, ch, ev) in &changes {
                    change_outbound(c, t, *id, ch, &actor, ev).await?;
                }
                Ok(())
            })
        })
        .await
    }
    async fn dispatch_batch(&self, t: TenantId, id: uuid::Uuid) -> Result<Option<DispatchBatch>> {
        self.read(move |c| Box::pin(batch(c, t, id))).await
    }
    async fn dispatch_batches(&self, t: TenantId, status: Option<String>, limit: i64) -> Result<Vec<DispatchBatch>> {
        self.read(move |c| { let status = status.clone(); Box::pin(async move { batches(c, t, status.as_deref(), limit).await }) }).await
    }
    async fn hand_over_batch(
        &self,
        t: TenantId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
        by: String,
        courier: String,
        changes: Vec<(ItemId, OutboundChange, EventDraft)>,
        actor: &Actor,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                if !close_batch(c, t, id, at, &by, &courier).await? {
                    return Err(StoreError::Stale);
                }
                for (item, ch, ev) in &changes {
                    change_outbound(c, t, *item, ch, &actor, ev).await?;
                }
                Ok(())
            })
        })
        .await
    }
    async fn complete_task(
        &self,
        t: TenantId,
        id: uuid::Uuid,
        by: Option<UserId>,
        note: Option<String>,
        at: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write_atomic(move |c| {
            Box::pin(async move { complete_task(c, t, id, by, note.as_deref(), at, &actor, &event).await })
        })
        .await
    }
    async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let jobs = jobs.to_vec();
        self.write(move |c| Box::pin(async move { enqueue_jobs(c, &jobs, Utc::now()).await })).await
    }
    async fn claim_jobs(&self, node: &str, now: DateTime<Utc>, lease: chrono::Duration, limit: i64) -> Result<Vec<Job>> {
        let node = node.to_string();
        self.write_atomic(move |c| Box::pin(async move { claim_jobs(c, &node, now, lease, limit).await })).await
    }
    async fn jobs_due(&self, now: DateTime<Utc>) -> Result<bool> {
        self.read(move |c| Box::pin(jobs_due(c, now))).await
    }
    async fn complete_job(&self, id: JobId, node: &str, now: DateTime<Utc>) -> Result<bool> {
        let node = node.to_string();
        self.write_atomic(move |c| Box::pin(async move { complete_job(c, id, &node, now).await })).await
    }
    async fn fail_job(&self, id: JobId, node: &str, error: &str, retry_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<bool> {
        let (node, error) = (node.to_string(), error.to_string());
        self.write_atomic(move |c| Box::pin(async move { fail_job(c, id, &node, &error, retry_at, now).await })).await
    }
    async fn job(&self, t: TenantId, id: JobId) -> Result<Option<Job>> {
        self.read(move |c| Box::pin(job(c, t, id))).await
    }
    async fn list_jobs(&self, t: TenantId, status: Option<&str>, limit: i64) -> Result<Vec<Job>> {
        let status = status.map(str::to_string);
        self.read(move |c| { let status = status.clone(); Box::pin(async move { list_jobs(c, t, status.as_deref(), limit).await }) }).await
    }
    async fn retry_job(&self, t: TenantId, id: JobId, now: DateTime<Utc>, actor: &Actor, event: EventDraft) -> Result<bool> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { retry_job(c, t, id, now, &actor, &event).await })).await
    }
    async fn job_counts(&self, t: TenantId) -> Result<Vec<(String, i64)>> {
        self.read(move |c| Box::pin(job_counts(c, t))).await
    }
    async fn prune_jobs(&self, before: DateTime<Utc>, limit: i64) -> Result<u64> {
        self.write_atomic(move |c| Box::pin(prune_jobs(c, before, limit))).await
    }

    async fn notification_templates(&self, t: TenantId) -> Result<Vec<NotificationTemplate>> {
        self.read(move |c| Box::pin(notification_templates(c, t))).await
    }
    async fn notification_template(&self, t: TenantId, kind: NoticeKind, lang: NoticeLang) -> Result<Option<NotificationTemplate>> {
        self.read(move |c| Box::pin(notification_template(c, t, kind, lang))).await
    }
    async fn put_notification_template(
        &self,
        t: TenantId,
        kind: NoticeKind,
        lang: NoticeLang,
        template: Option<NotificationTemplate>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move { put_notification_template(c, t, kind, lang, template.as_ref(), &actor, &event).await })
        })
        .await
    }
    async fn notify_preference(&self, t: TenantId, person: PersonId) -> Result<Option<NotifyPreference>> {
        self.read(move |c| Box::pin(notify_preference(c, t, person))).await
    }
    async fn notify_preferences(&self, t: TenantId, people: &[PersonId]) -> Result<Vec<NotifyPreference>> {
        let people = people.to_vec();
        self.read(move |c| { let people = people.clone(); Box::pin(async move { notify_preferences(c, t, &people).await }) }).await
    }
    async fn put_notify_preference(&self, t: TenantId, pref: &NotifyPreference, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let (pref, actor) = (pref.clone(), actor.clone());
        self.write(move |c| Box::pin(async move { put_notify_preference(c, t, &pref, &actor, &event).await })).await
    }
    async fn channel_endpoints(&self, t: TenantId) -> Result<Vec<ChannelEndpoint>> {
        self.read(move |c| Box::pin(channel_endpoints(c, t))).await
    }
    async fn channel_endpoint(&self, t: TenantId, id: EndpointId) -> Result<Option<ChannelEndpoint>> {
        self.read(move |c| Box::pin(channel_endpoint(c, t, id))).await
    }
    async fn put_channel_endpoint(&self, e: &ChannelEndpoint, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let (e, actor) = (e.clone(), actor.clone());
        self.write(move |c| Box::pin(async move { put_channel_endpoint(c, &e, &actor, &event).await })).await
    }
    async fn delete_channel_endpoint(&self, t: TenantId, id: EndpointId, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { delete_channel_endpoint(c, t, id, &actor, &event).await })).await
    }

    async fn site_calendar(&self, t: TenantId, site: SiteId) -> Result<Option<SiteCalendar>> {
        self.read(move |c| Box::pin(site_calendar(c, t, site))).await
    }
    async fn put_site_calendar(&self, cal: &SiteCalendar, actor: &Actor, event: EventDraft) -> Result<CustodyEvent> {
        let (cal, actor) = (cal.clone(), actor.clone());
        self.write(move |c| Box::pin(async move { put_site_calendar(c, &cal, &actor, &event).await })).await
    }
    async fn unclaimed_policies(&self, t: TenantId) -> Result<Vec<mailroom_domain::followup::UnclaimedPolicy>> {
        self.read(move |c| Box::pin(unclaimed_policies(c, t))).await
    }
    async fn set_unclaimed_policies(
        &self,
        t: TenantId,
        policies: Vec<mailroom_domain::followup::UnclaimedPolicy>,
        at: DateTime<Utc>,
        actor: &Actor,
        event: EventDraft,
    ) -> Result<CustodyEvent> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { set_unclaimed_policies(c, t, &policies, at, &actor, &event).await })).await
    }
    async fn due_items(&self, t: TenantId, until: DateTime<Utc>, unbreached_only: bool, limit: i64) -> Result<Vec<FollowupItem>> {
        self.read(move |c| Box::pin(due_items(c, t, until, unbreached_only, limit))).await
    }
    async fn waiting_items(&self, t: TenantId, arrived_before: DateTime<Utc>, after: Option<ItemId>, limit: i64) -> Result<Vec<FollowupItem>> {
        self.read(move |c| Box::pin(waiting_items(c, t, arrived_before, after, limit))).await
    }
    async fn pending_disposals(&self, t: TenantId, limit: i64) -> Result<Vec<FollowupItem>> {
        self.read(move |c| Box::pin(pending_disposals(c, t, limit))).await
    }
    async fn item_followup(&self, t: TenantId, id: ItemId) -> Result<Option<FollowupItem>> {
        self.read(move |c| Box::pin(item_followup(c, t, id))).await
    }
    async fn followup_step(&self, w: FollowupWrite, actor: &Actor) -> Result<Option<Vec<CustodyEvent>>> {
        let actor = actor.clone();
        self.write(move |c| Box::pin(async move { followup_step(c, &w, &actor).await })).await
    }
}
