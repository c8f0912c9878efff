// The scorer as an Azure Container App with a user-assigned managed identity
// (docs/operations.md, "Deploy"). Deploys into an existing resource group that
// holds the Container Apps environment, the storage account with the model, the
// Event Hubs namespace and the Key Vault:
//   az deployment group create -g RG -f deploy/azure/main.bicep -p @params.json
// Creates: the identity; its roles Storage Blob Data Reader (model container
// only), Azure Event Hubs Data Receiver (the hub only), Key Vault Secrets User
// (the vault); the app, scaled by KEDA on the consumer group's lag.

@description('Region of the new resources.')
param location string = resourceGroup().location

@description('Name of the container app.')
param appName string = 'machine-health-scorer'

@description('Resource ID of the existing Container Apps environment.')
param environmentId string

@description('Container image, e.g. myregistry.azurecr.io/machine-health:1.0.0.')
param image string

@description('Login server of the registry holding the image (pulled with the identity: give it AcrPull there).')
param registryServer string

@description('Storage account holding the model (STORAGE_ACCOUNT_NAME).')
param storageAccountName string

@description('Blob container of the model (MODEL_CONTAINER_NAME).')
param modelContainerName string = 'models'

@description('Path of the model in the container (MODEL_FILE_PATH): a machine-health model or a scikit-learn .joblib.')
param modelFilePath string = 'iforest_final.joblib'

@description('Event Hubs namespace name (without .servicebus.windows.net).')
param eventHubNamespaceName string

@description('Event hub the scorers read (the Kafka topic).')
param eventHubName string

@description('Kafka consumer group shared by the scorer replicas.')
param consumerGroup string = 'scorers'

@description('InfluxDB 2 / InfluxDB Cloud host[:port] (HTTPS).')
param influxdbHost string

@description('InfluxDB organization.')
param influxdbOrg string

@description('Key Vault holding the secrets below.')
param keyVaultName string

@description('Key Vault secret URI of the InfluxDB write token.')
param influxdbTokenSecretUri string

@description('Key Vault secret URI of a Listen-only connection string of the hub, for the KEDA scaler only.')
param scalerConnectionStringSecretUri string

@description('Most replicas: no more than the hub has partitions.')
@minValue(1)
param maxReplicas int = 4

@description('Consumer lag (events) per replica at which KEDA adds one.')
param lagThreshold int = 5000

// Built-in role definition IDs (the same in every tenant).
var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${appName}-identity'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-01-01' existing = {
  parent: storage
  name: 'default'
}

resource modelContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' existing = {
  parent: blobService
  name: modelContainerName
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = {
  parent: namespace
  name: eventHubName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource modelReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(modelContainer.id, identity.id, storageBlobDataReader)
  scope: modelContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataReader)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hubReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, identity.id, eventHubsDataReceiver)
  scope: hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource secretsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  // The first revision must find its roles in place.
  dependsOn: [
    modelReader
    hubReceiver
    secretsReader
  ]
  properties: {
    environmentId: environmentId
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryServer
          identity: identity.id
        }
      ]
      secrets: [
        {
          name: 'influxdb-token'
          keyVaultUrl: influxdbTokenSecretUri
          identity: identity.id
        }
        {
          name: 'scaler-eventhub-connection-string'
          keyVaultUrl: scalerConnectionStringSecretUri
          identity: identity.id
        }
        {
          name: 'scaler-sasl'
          value: 'plaintext'
        }
        {
          name: 'scaler-username'
          value: '$ConnectionString'
        }
        {
          name: 'scaler-tls'
          value: 'enable'
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'scorer'
          image: image
          args: [
            'score'
            '--from'
            'eventhubs:?group=${consumerGroup}'
            '--to'
            'influxdb2s://${influxdbHost}/iiot_rms?org=${influxdbOrg}'
            '--stats-interval'
            '60'
            '--metrics-listen'
            '0.0.0.0:8080'
            '--model-poll'
            '60s'
          ]
          // As in containerapp.yaml: liveness /healthz, readiness /readyz.
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8080
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: 8080
              }
              periodSeconds: 5
              failureThreshold: 24
            }
          ]
          env: [
            {
              name: 'AZURE_CLIENT_ID'
              value: identity.properties.clientId
            }
            {
              name: 'STORAGE_ACCOUNT_NAME'
              value: storageAccountName
            }
            {
              name: 'MODEL_CONTAINER_NAME'
              value: modelContainerName
            }
            {
              name: 'MODEL_FILE_PATH'
              value: modelFilePath
            }
            {
              name: 'EVENT_HUB_NAMESPACE_FQDN'
              value: '${eventHubNamespaceName}.servicebus.windows.net'
            }
            {
              name: 'EVENT_HUB_NAME'
              value: eventHubName
            }
            {
              name: 'INFLUXDB_TOKEN'
              secretRef: 'influxdb-token'
            }
          ]
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: maxReplicas
        rules: [
          {
            // KEDA's kafka scaler on the Event Hubs Kafka endpoint: the lag of the
            // scorers' consumer group (see deploy/azure/containerapp.yaml for why
            // not the azure-eventhub scaler).
            name: 'eventhub-consumer-lag'
            custom: {
              type: 'kafka'
              metadata: {
                bootstrapServers: '${eventHubNamespaceName}.servicebus.windows.net:9093'
                consumerGroup: consumerGroup
                topic: eventHubName
                lagThreshold: string(lagThreshold)
                offsetResetPolicy: 'earliest'
              }
              auth: [
                {
                  secretRef: 'scaler-sasl'
                  triggerParameter: 'sasl'
                }
                {
                  secretRef: 'scaler-username'
                  triggerParameter: 'username'
                }
                {
                  secretRef: 'scaler-eventhub-connection-string'
                  triggerParameter: 'password'
                }
                {
                  secretRef: 'scaler-tls'
                  triggerParameter: 'tls'
                }
              ]
            }
          }
        ]
      }
    }
  }
}

output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
output appName string = app.name
